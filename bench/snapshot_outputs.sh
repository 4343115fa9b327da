#!/usr/bin/env bash
# Every output format of every bundled spec and normative example, written to DIR: run it
# before and after a refactor that must not change behaviour, then `diff -r BEFORE AFTER`.
#   bench/snapshot_outputs.sh /tmp/before; (change); bench/snapshot_outputs.sh /tmp/after
set -u
out=${1:?usage: bench/snapshot_outputs.sh DIR}
mkdir -p "$out"
cd "$(dirname "$0")/.."
examples=../shared/dsl/examples
run() { python -m validator "$@"; }
for fmt in text json sarif github junit; do run check spec --format "$fmt" --color never >"$out/spec.$fmt" 2>&1; done
for fmt in text json sarif; do run check "$examples" --format "$fmt" --color never >"$out/examples.$fmt" 2>&1; done
for f in spec/rules/*/fail.uapi "$examples/vcpu-features-asymmetric.uapi"; do
  name=$(echo "$f" | tr '/' '_')
  for fmt in markdown html email; do run review "$f" --format "$fmt" >"$out/review.$name.$fmt" 2>&1; done
done
for d in spec/rules/B6*/ spec/rules/A302*/; do
  run diff "$d/base.uapi" "$d/fail.uapi" --format json >"$out/diff.$(basename "$d").json" 2>&1
done
run diff "$examples/vcpu-features-base.uapi" "$examples/vcpu-features-asymmetric.uapi" --format json >"$out/diff.asymmetric.json" 2>&1
run simulate spec/kvm --format json >"$out/simulate.json" 2>&1
run compare "$examples/hypercall-bitmaps.uapi" "$examples/hypercall-bitmaps-vm-fd.uapi" "$examples/hypercall-bitmaps-write-once.uapi" >"$out/compare.txt" 2>&1
run crosscheck spec/kvm/arm64 --header spec/kvm/arm64/kvm-uapi.h --format json >"$out/crosscheck.json" 2>&1
run rules >"$out/rules.txt" 2>&1
for code in E101 E102 E109 S202 B606; do run explain "$code" >"$out/explain.$code.txt" 2>&1; done
for fmt in markdown html; do run catalog --format "$fmt" >"$out/catalog.$fmt" 2>&1; done
run test spec/rules >"$out/test.json" 2>&1
echo "wrote $(ls "$out" | wc -l) outputs to $out"
