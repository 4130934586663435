//! Standard Webhooks signing of 1 KB and 10 KB bodies.

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

criterion_group!(benches, bench_signing);
criterion_main!(benches);
