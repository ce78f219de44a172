//! Criterion benchmarks of `check` and `explain` on the S dataset's check mix.

use criterion::{Criterion, criterion_group, criterion_main};
use deputy_bench::generate::{DEFAULT_SEED, build_state};
use deputy_bench::{Category, Mixer, Size, generate};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let Ok(dataset) = generate(Size::S, DEFAULT_SEED) else { return };
    let Ok(state) = build_state(&dataset.changes) else { return };
    let now = dataset.now;
    let mut mixer = Mixer::new(&state, &dataset.meta, 7);
    let probes = mixer.mix(65_536);
    let mut i = 0usize;
    c.bench_function("check/mix/S", |b| {
        b.iter(|| {
            let p = &probes[i % probes.len()];
            i += 1;
            black_box(state.check(p.principal, p.permission, p.target, p.ctx, now).ok())
        })
    });
    for category in
        [Category::Subtree, Category::DelegateGroup, Category::Partner, Category::Denial]
    {
        let only = mixer.only(category, 16_384);
        let mut i = 0usize;
        c.bench_function(&format!("check/{category:?}/S"), |b| {
            b.iter(|| {
                let p = &only[i % only.len()];
                i += 1;
                black_box(state.check(p.principal, p.permission, p.target, p.ctx, now).ok())
            })
        });
    }
    let mut i = 0usize;
    c.bench_function("explain/mix/S", |b| {
        b.iter(|| {
            let p = &probes[i % probes.len()];
            i += 1;
            black_box(state.explain(p.principal, p.permission, p.target, p.ctx, now).ok())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
