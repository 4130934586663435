//! Standard Webhooks signing of 1 KB and 10 KB bodies, and the keyed permutation
//! behind public ids (one per id a response shows).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use freightgate::webhooks::signer::WebhookSecret;
use std::hint::black_box;

fn bench_signing(c: &mut Criterion) {
    let secret = WebhookSecret::generate();
    let mut group = c.benchmark_group("sign");
    for size in [1024usize, 10 * 1024] {
        let body = vec![b'x'; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &body, |b, body| {
            b.iter(|| {
                secret.sign(
                    black_box("msg_01a2019c31e573a5a1108000e3f07896"),
                    1_767_225_600,
                    black_box(body),
                )
            })
        });
    }
    group.finish();
}

fn bench_public_ids(c: &mut Criterion) {
    use freightgate::domain::IdKey;
    use freightgate::domain::public_id::IdCipher;
    let cipher = IdCipher::new(IdKey::random());
    let mut group = c.benchmark_group("public_id");
    group.bench_function("encode", |b| {
        let mut id = 0i64;
        b.iter(|| {
            id = id % 1_000_000 + 1;
            cipher.encode(black_box(id))
        })
    });
    group.bench_function("decode", |b| {
        let public = cipher.encode(123_456);
        b.iter(|| cipher.decode(black_box(public)))
    });
    group.finish();
}

criterion_group!(benches, bench_signing, bench_public_ids);
criterion_main!(benches);
