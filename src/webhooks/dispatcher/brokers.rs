//! Outbound targets that publish to a message broker: NATS JetStream and AMQP
//! (RabbitMQ). Each keeps one connection per target between pushes; a publish
//! counts as delivered once the broker has acknowledged it (a stream's ack, a
//! publisher confirm), never before.

use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};

use crate::outbound::Request;
use crate::outbound::definition::{Amqp as OutboundAmqp, Nats as OutboundNats};
use crate::sources::definition::Auth;
use crate::store::dispatch::Payload;
use crate::store::outbox::Rendered;

use super::push::{Answer, OutboundPush, SecretCache};

/// The brokers' connections of the outbound targets.
#[derive(Default)]
pub(super) struct Brokers {
    pub nats: NatsClients,
    pub amqp: AmqpChannels,
}

/// NATS connections of outbound targets, one per target, kept between pushes (the
/// client reconnects by itself when the server goes away).
#[derive(Default)]
pub(super) struct NatsClients(
    tokio::sync::Mutex<std::collections::HashMap<String, (String, async_nats::Client)>>,
);

impl NatsClients {
    async fn get(
        &self,
        name: &str,
        nats: &OutboundNats,
        secrets: &SecretCache,
    ) -> Result<async_nats::Client, String> {
        let mut clients = self.0.lock().await;
        if let Some((url, client)) = clients.get(name)
            && *url == nats.url
        {
            return Ok(client.clone());
        }
        let mut options = async_nats::ConnectOptions::new()
            .connection_timeout(nats.timeout)
            .name(format!("freightgate outbound {name}"));
        match &nats.auth {
            Some(Auth::Bearer { token }) => options = options.token(secrets.read(token)?),
            Some(Auth::Basic { user, password }) => {
                options = options.user_and_password(secrets.read(user)?, secrets.read(password)?)
            }
            _ => {}
        }
        let servers: Vec<&str> = nats.url.split(',').map(str::trim).collect();
        let client = options
            .connect(servers.as_slice())
            .await
            .map_err(|e| format!("connecting to {}: {e}", nats.url))?;
        clients.insert(name.to_string(), (nats.url.clone(), client.clone()));
        Ok(client)
    }
}

/// Publishes a NATS target's message to JetStream with the event's id as
/// `Nats-Msg-Id` (the stream keeps one of a message published twice within its
/// duplicate window); the stream's acknowledgement counts as delivered.
pub(super) async fn publish_nats(
    push: &OutboundPush<'_>,
    name: &str,
    nats: &OutboundNats,
    request: &crate::outbound::Request,
    rendered: &Rendered,
    message: &Payload,
) -> Answer {
    let Some(subject) = request.subject.clone() else {
        return Answer::permanent(format!(
            "the delivery to outbound target `{name}` names no subject (its target was of another kind when it was rendered)"
        ));
    };
    let client = match push.brokers.nats.get(name, nats, push.secrets).await {
        Ok(c) => c,
        Err(why) => return Answer::failed(format!("outbound target `{name}`: {why}")),
    };
    let mut jetstream = async_nats::jetstream::new(client);
    jetstream.set_timeout(nats.timeout);
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", message.webhook_id.as_str());
    for (header, value) in &request.headers {
        headers.insert(header.as_str(), value.as_str());
    }
    let published = async {
        jetstream
            .publish_with_headers(subject.clone(), headers, rendered.body.clone().into())
            .await?
            .await
    };
    match tokio::time::timeout(nats.timeout + Duration::from_secs(1), published).await {
        Ok(Ok(ack)) => Answer::done(format!(
            "published on {subject}: stream {} sequence {}{}",
            ack.stream,
            ack.sequence,
            if ack.duplicate {
                " (a duplicate: the stream kept the first)"
            } else {
                ""
            }
        )),
        Ok(Err(e)) => Answer::failed(format!(
            "outbound target `{name}`: publishing on {subject}: {e}"
        )),
        Err(_) => Answer::failed(format!(
            "outbound target `{name}`: no acknowledgement for {subject} within {}",
            humantime::format_duration(nats.timeout)
        )),
    }
}

/// AMQP connections of outbound targets: one connection and one channel in
/// confirm mode per target, opened again after any failure (a broker that
/// restarted, a channel the broker closed).
#[derive(Default)]
pub(super) struct AmqpChannels(
    tokio::sync::Mutex<std::collections::HashMap<String, (String, Connection, Channel)>>,
);

impl AmqpChannels {
    async fn get(
        &self,
        name: &str,
        amqp: &OutboundAmqp,
        secrets: &SecretCache,
    ) -> Result<Channel, String> {
        let mut uri: lapin::uri::AMQPUri = amqp
            .url
            .parse()
            .map_err(|e| format!("the URL `{}`: {e}", amqp.url))?;
        if let Some(Auth::Basic { user, password }) = &amqp.auth {
            uri.authority.userinfo.username = secrets.read(user)?;
            uri.authority.userinfo.password = secrets.read(password)?;
        }
        // A new user or password (a rotated secret) opens a new connection.
        let key = format!("{}\n{}", amqp.url, uri.authority.userinfo.username);
        let mut channels = self.0.lock().await;
        if let Some((k, connection, channel)) = channels.get(name)
            && *k == key
            && connection.status().connected()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        if let Some((_, old, _)) = channels.remove(name) {
            let _ = old.close(200, "reconnecting".into()).await;
        }
        let properties = ConnectionProperties::default()
            .with_connection_name(format!("freightgate outbound {name}").into());
        let opened = async {
            let connection = Connection::connect_uri(uri, properties).await?;
            let channel = connection.create_channel().await?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await?;
            Ok::<_, lapin::Error>((connection, channel))
        };
        let (connection, channel) = match tokio::time::timeout(amqp.timeout, opened).await {
            Ok(Ok(opened)) => opened,
            Ok(Err(e)) => return Err(format!("connecting to {}: {e}", amqp.url)),
            Err(_) => {
                return Err(format!(
                    "connecting to {}: no answer within {}",
                    amqp.url,
                    humantime::format_duration(amqp.timeout)
                ));
            }
        };
        channels.insert(name.to_string(), (key, connection, channel.clone()));
        Ok(channel)
    }

    /// Drops a target's connection after a failure, so the next push opens a new one.
    async fn forget(&self, name: &str) {
        if let Some((_, connection, _)) = self.0.lock().await.remove(name) {
            let _ = connection.close(200, "reconnecting".into()).await;
        }
    }
}

/// Publishes an AMQP target's message: persistent, `mandatory` (a message no queue
/// takes comes back and is an error, not a silent drop), with the event's id as
/// `message_id` for consumers that keep each message once. The broker's publisher
/// confirm counts as delivered; a nack, a return or no confirm within the timeout
/// is a failed attempt, retried on the schedule.
pub(super) async fn publish_amqp(
    push: &OutboundPush<'_>,
    name: &str,
    amqp: &OutboundAmqp,
    request: &Request,
    rendered: &Rendered,
    message: &Payload,
) -> Answer {
    let Some(routing_key) = request.subject.clone() else {
        return Answer::permanent(format!(
            "the delivery to outbound target `{name}` names no routing key (its target was of another kind when it was rendered)"
        ));
    };
    let channel = match push.brokers.amqp.get(name, amqp, push.secrets).await {
        Ok(c) => c,
        Err(why) => return Answer::failed(format!("outbound target `{name}`: {why}")),
    };
    let content_type = request
        .headers
        .iter()
        .find(|(h, _)| h == "content-type")
        .map_or("application/json", |(_, v)| v.as_str());
    let properties = BasicProperties::default()
        .with_message_id(message.webhook_id.as_str().into())
        .with_content_type(content_type.into())
        .with_delivery_mode(2)
        .with_timestamp(u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default());
    let options = BasicPublishOptions {
        mandatory: true,
        ..BasicPublishOptions::default()
    };
    let published = async {
        channel
            .basic_publish(
                amqp.exchange.as_str().into(),
                routing_key.as_str().into(),
                options,
                rendered.body.as_bytes(),
                properties,
            )
            .await?
            .await
    };
    let at = format!("exchange `{}` routing key `{routing_key}`", amqp.exchange);
    let answer = match tokio::time::timeout(amqp.timeout, published).await {
        Ok(Ok(Confirmation::Ack(None))) => {
            return Answer::done(format!("published to {at}: confirmed by the broker"));
        }
        Ok(Ok(Confirmation::Ack(Some(returned)) | Confirmation::Nack(Some(returned)))) => {
            Answer::failed(format!(
                "outbound target `{name}`: the broker returned the message for {at}: {} {} (no queue is bound to take it)",
                returned.reply_code, returned.reply_text
            ))
        }
        Ok(Ok(Confirmation::Nack(None))) => Answer::failed(format!(
            "outbound target `{name}`: the broker refused the message for {at} (nack)"
        )),
        Ok(Ok(Confirmation::NotRequested)) => Answer::failed(format!(
            "outbound target `{name}`: the channel was not in confirm mode; publishing again"
        )),
        Ok(Err(e)) => Answer::failed(format!("outbound target `{name}`: publishing to {at}: {e}")),
        Err(_) => Answer::failed(format!(
            "outbound target `{name}`: no confirmation for {at} within {}",
            humantime::format_duration(amqp.timeout)
        )),
    };
    push.brokers.amqp.forget(name).await;
    answer
}
