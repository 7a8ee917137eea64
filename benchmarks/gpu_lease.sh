#!/usr/bin/env bash
# Issue 17, item 6: everything a lent GPU machine runs, as one call of at most ~9 minutes.
#   run from the repository root on the device machine, with the wheels nasc needs beyond the
#   machine's image in .whl/ (lark, pydantic and its parts) and Frappe_x1 in .devdata/frappe_x1;
#   results land in $OUT (bring them back with `python benchmarks/gpu.py --merge`).
# Order: the CUDA tests, then benchmarks/gpu.py (step vs reference, real 50-epoch AutoPI-D
# searches with and without CUDA graphs, compiled steps), then as many AutoPI-D random811 seeds
# (benchmarks/autopi.py) as the time left allows.
set -u
DEADLINE=${DEADLINE:-540}   # seconds from start; the call's own limit is a little longer
DATA=${DATA:-.devdata/frappe_x1}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 NASC_SHARED_DATA=$PWD/.devdata
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
timeout 150 python3 -m pytest -q -p no:cacheprovider -m cuda tests > "$OUT/pytest_cuda.log" 2>&1
echo "pytest -m cuda: exit $?; $(tail -1 "$OUT/pytest_cuda.log")"
timeout $((DEADLINE - SECONDS - 20)) python3 benchmarks/gpu.py --data "$DATA" --out "$OUT/gpu.json" \
  --search-limit $((DEADLINE - SECONDS - 200)) 2>&1 | tee "$OUT/gpu.log"
left=$((DEADLINE - SECONDS))
if [ "$left" -gt 60 ]; then
  timeout "$left" python3 benchmarks/autopi.py --data "$DATA" --splits random811 \
    --seeds 2021 2022 2023 --strategies darts --device cuda --work /tmp/autopi \
    --out "$OUT/autopi_gpu.json" 2>&1 | tail -20
fi
echo "done at ${SECONDS} s"
