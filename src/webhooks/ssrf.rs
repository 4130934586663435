//! Server-side request forgery guard: webhook targets must be public addresses,
//! unless an operator allows a network. Checked at registration and again on every
//! connection (DNS answers are filtered in the resolver, so a name cannot be
//! re-pointed at an internal address after registration).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Which addresses and ports webhook pushes may reach.
#[derive(Debug, Clone)]
pub struct Guard {
    allow: Vec<IpNet>,
    ports: Vec<(u16, u16)>,
}

impl Default for Guard {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            ports: DEFAULT_PORTS.to_vec(),
        }
    }
}

/// `webhooks_allow_ports` by default.
const DEFAULT_PORTS: &[(u16, u16)] = &[(80, 80), (443, 443), (1024, 65535)];

/// Well-known service ports a webhook has no business reaching, refused inside an
/// allowed range unless listed on their own: SOCKS, SQL Server, Oracle, Docker,
/// etcd, MySQL, RDP, NATS, PostgreSQL, AMQP, CouchDB, Redis, the Kubernetes API,
/// Consul, Cassandra, Kafka, Elasticsearch, the kubelet, memcached, the RabbitMQ
/// console, MongoDB.
const SERVICE_PORTS: &[u16] = &[
    1080, 1433, 1521, 2375, 2376, 2379, 2380, 3306, 3389, 4222, 5432, 5672, 5984, 6379, 6443, 8500,
    9042, 9092, 9200, 9300, 10250, 11211, 15672, 27017,
];

fn v4_is_global(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        // The deprecated 6to4 relay anycast prefix.
        || (a == 192 && b == 88 && c == 99)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn v6_is_global(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_is_global(v4);
    }
    let segments = ip.segments();
    let first = segments[0];
    // 6to4 (2002::/16) carries an IPv4 address in its next 32 bits.
    if first == 0x2002 {
        let [a, b] = segments[1].to_be_bytes();
        let [c, d] = segments[2].to_be_bytes();
        return v4_is_global(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // ::/16 holds the deprecated IPv4-compatible and other reserved forms.
        || first == 0
        // Teredo tunnels reach arbitrary IPv4 hosts.
        || (first == 0x2001 && segments[1] == 0)
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)
        || first == 0x0100)
}

/// Whether `ip` is a public unicast address.
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_is_global(v4),
        IpAddr::V6(v6) => v6_is_global(v6),
    }
}

impl Guard {
    /// A guard that also lets pushes reach `allow` (`webhooks_allow_networks`), on
    /// the default ports.
    pub fn new(allow: &[IpNet]) -> Self {
        Self {
            allow: allow.to_vec(),
            ports: DEFAULT_PORTS.to_vec(),
        }
    }

    /// The guard the configuration asks for.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            allow: config.webhooks_allow_networks.clone(),
            ports: config.webhooks_allow_ports.clone(),
        }
    }

    /// Whether pushes may go to `port`: in an allowed range and not a service port,
    /// or listed on its own.
    pub fn permits_port(&self, port: u16) -> bool {
        let listed_alone = self
            .ports
            .iter()
            .any(|&(low, high)| low == port && high == port);
        let in_range = self
            .ports
            .iter()
            .any(|&(low, high)| (low..=high).contains(&port));
        listed_alone || (in_range && !SERVICE_PORTS.contains(&port))
    }

    /// Whether pushes may reach `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        is_global(ip) || self.allow.iter().any(|net| net.contains(&ip))
    }

    /// Checks a target URL: http(s), no credentials, and every address it names or
    /// resolves to permitted.
    pub async fn check_url(&self, text: &str) -> Result<Url, String> {
        let url = Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("the URL must use http or https".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the URL must not carry credentials".into());
        }
        let host = url.host_str().ok_or("the URL has no host")?;
        let port = url.port_or_known_default().unwrap_or(443);
        if !self.permits_port(port) {
            return Err(format!(
                "the URL's port {port} is not one pushes may use; allowed are the ports of the \
                 setting `webhooks_allow_ports` (environment variable \
                 FREIGHTGATE_WEBHOOKS_ALLOW_PORTS, by default 80, 443 and 1024-65535 except \
                 well-known service ports such as 5432 or 6379; list a port on its own to allow it)"
            ));
        }
        let addresses: Vec<SocketAddr> = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("the host `{host}` does not resolve: {e}"))?
                .collect(),
        };
        match addresses.iter().find(|a| !self.permits(a.ip())) {
            Some(bad) => Err(format!(
                "the URL points at {}, a private or reserved address; pushes only go to public \
                 addresses unless its network is allowed with the setting `webhooks_allow_networks` \
                 (environment variable FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS, e.g. `{}/{}`)",
                bad.ip(),
                bad.ip(),
                if bad.is_ipv4() { 32 } else { 128 }
            )),
            None if addresses.is_empty() => Err(format!("the host `{host}` has no addresses")),
            None => Ok(url),
        }
    }
}

/// A DNS resolver that drops answers the guard does not permit.
#[derive(Debug, Clone)]
pub struct GuardedResolver(pub Arc<Guard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| guard.permits(a.ip()))
                .collect();
            if permitted.is_empty() {
                return Err(format!("`{host}` resolves to no permitted address").into());
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_reserved_and_local_addresses_are_not_global() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "64:ff9b::7f00:1",
            "::7f00:1",
            "::127.0.0.1",
            "2002:7f00:1::1",
            "2002:a00:1::",
            "2001:0:4136:e378::1",
            "fec0::1",
            "192.88.99.1",
            "2002:c058:6301::1",
        ] {
            assert!(!is_global(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
        ] {
            assert!(is_global(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn allowed_networks_open_a_hole() {
        let guard = Guard::new(&crate::config::parse_networks("127.0.0.0/8, ::1/128").unwrap());
        assert!(guard.permits("127.0.0.1".parse().unwrap()));
        assert!(guard.permits("::1".parse().unwrap()));
        assert!(!guard.permits("10.0.0.1".parse().unwrap()));
    }

    #[tokio::test]
    async fn the_resolver_drops_private_answers_for_names() {
        let strict = GuardedResolver(Arc::new(Guard::default()));
        let name: Name = "localhost".parse().unwrap();
        let error = match strict.resolve(name).await {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e.to_string(),
        };
        assert!(error.contains("no permitted address"), "{error}");
        let loopback = Guard::new(&crate::config::parse_networks("127.0.0.0/8").unwrap());
        let open = GuardedResolver(Arc::new(loopback));
        let found: Vec<SocketAddr> = open
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!found.is_empty());
        assert!(
            found
                .iter()
                .all(|a| a.ip().is_ipv4() && a.ip().is_loopback()),
            "{found:?}"
        );
    }

    #[tokio::test]
    async fn urls_are_checked_before_registration() {
        let guard = Guard::default();
        for (url, why) in [
            ("http://127.0.0.1:9000/hook", "private"),
            ("http://[::1]/hook", "private"),
            ("http://localhost/hook", "private"),
            ("ftp://example.com/hook", "http or https"),
            ("http://user:pw@8.8.8.8/hook", "credentials"),
            ("http://169.254.169.254/latest/meta-data", "private"),
        ] {
            let error = guard.check_url(url).await.unwrap_err();
            assert!(error.contains(why), "{url}: {error}");
        }
        assert!(guard.check_url("https://8.8.8.8/hook").await.is_ok());
    }

    #[tokio::test]
    async fn ports_outside_the_allowed_ones_and_service_ports_are_refused() {
        let guard = Guard::default();
        for url in [
            "http://8.8.8.8:22/hook",
            "http://8.8.8.8:25/hook",
            "http://8.8.8.8:6379/hook",
            "http://8.8.8.8:5432/hook",
            "https://8.8.8.8:1023/hook",
        ] {
            let error = guard.check_url(url).await.unwrap_err();
            assert!(error.contains("webhooks_allow_ports"), "{url}: {error}");
        }
        for url in [
            "http://8.8.8.8/hook",
            "https://8.8.8.8:8443/hook",
            "http://8.8.8.8:40000/",
        ] {
            assert!(guard.check_url(url).await.is_ok(), "{url}");
        }
        let own = Guard {
            allow: Vec::new(),
            ports: crate::config::parse_port_ranges("443,6379,8000-9000").unwrap(),
        };
        assert!(own.permits_port(6379), "listed on its own");
        assert!(own.permits_port(8080));
        assert!(!own.permits_port(8500), "a service port inside a range");
        assert!(!own.permits_port(80));
    }
}
