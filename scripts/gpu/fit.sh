#!/bin/bash
# Train the gpu recipe's heads and baseline (b) on a borrowed GPU machine that has PyTorch and
# transformers but not this package, from a copy of this checkout (how the shipped heads were made).
#
# Here first: `edgeagent train --recipe gpu --stage prepare --work runs/train-gpu`; build the
# scaffold extension for the machine's Python (e.g. `python3.12 -m pip wheel --no-deps .`, then
# take edgeagent/cpp_ext/_scaffold.cpython-312-*.so out of the wheel); `pip download` the wheels
# it lacks (gguf, jsonschema and its three dependencies); split the GGUF (`split -b 34M -d FILE
# part_`) where one transfer cannot carry it. Put the parts, runs/train-gpu/prepared.pkl.gz and
# prepare.json, the .so and the wheels into one folder X; parts sent earlier may wait in G.
# There: `X=folder bash scripts/gpu/fit.sh`. It joins the GGUF (fetch checks it), sets the package up
# as symlinks over the checkout (scripts/gpu/farm.sh), fits the heads
# (`--stage fit --device cuda`), then trains (b) with the tokens the time budget leaves
# (`--stage lora`, at most LORA_MAX). Results go to $OUT as they are made: heads-0*.safetensors,
# heads-meta.tgz (configs and reports), lora.tgz, and the logs.
# Env: X, G (default /tmp/g), DEVICE (cuda; cpu runs the same steps with the installed package,
# for a dry run on a tiny prepared set), BUDGET_S (seconds for the whole run), LORA_MAX, MIN_LORA
# (fewer tokens than this left: no LoRA run), EPOCHS, W (work folder), OUT.
# A mix prepared with `--listing signature` gives heads for that listing (heads.json records it);
# its LoRA step then stops with an error, since (b) trains on the json listing only (skip it:
# MIN_LORA=999999999999).
set -uo pipefail
export PYTHONUNBUFFERED=1 TQDM_MININTERVAL=20
X=${X:?X: the folder with the GGUF parts, the prepared mix, the .so and the wheels}; DEVICE=${DEVICE:-cuda}; BUDGET_S=${BUDGET_S:-470}; LORA_MAX=${LORA_MAX:-3000000}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
t0=$(date +%s); el() { echo $(( $(date +%s) - t0 )); }; log() { echo "[$(el)s] $*"; }
G=${G:-/tmp/g}; mkdir -p "$G"
cp "$X"/part_* "$G"/ 2>/dev/null
cat "$G"/part_0* > "$G"/model.gguf               # `models fetch` checks it against the registry's sha256
if [ "$DEVICE" = cuda ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$X"/*.whl || exit 4
  bash scripts/gpu/farm.sh /tmp/pkg "$X"/_scaffold.cpython-*.so || exit 5
  export PYTHONPATH=/tmp/pkg:/tmp/site
  nvidia-smi -L; python3 -c "import torch, transformers; print(torch.__version__, transformers.__version__, torch.cuda.get_device_name())"
fi
export EDGEAGENT_HOME=${EDGEAGENT_HOME:-/tmp/eh} EDGEAGENT_GGUF=$G/model.gguf HF_HUB_OFFLINE=1
log fetch; python3 -P -m edgeagent models fetch smollm2-135m 2>&1 | tail -3 || exit 6
W=${W:-runs/train-gpu-dev}; H=$W/heads; mkdir -p "$W"
cp "$X"/prepared.pkl.gz "$X"/prepare.json "$W"/
log fit
python3 -P -m edgeagent train --recipe gpu --stage fit --device "$DEVICE" --work "$W" --out "$H" ${EPOCHS:+--epochs $EPOCHS} \
  > "$OUT"/fit.log 2>&1; rc=$?
grep -v "it/s\]\|s/it\]" "$OUT"/fit.log | tail -c 3000; log "fit rc=$rc"
cp "$H"/heads-0*.safetensors "$OUT"/ 2>/dev/null
tar czf "$OUT"/heads-meta.tgz -C "$H" --exclude='heads-0*.safetensors' . 2>/dev/null
left=$(( BUDGET_S - $(el) - 45 ))
tokens=$(( left * 15000 )); [ $tokens -gt "$LORA_MAX" ] && tokens=$LORA_MAX
if [ $tokens -lt "${MIN_LORA:-300000}" ]; then log "no time left for the LoRA baseline"; exit 0; fi
log "lora, $tokens tokens"
python3 -P -m edgeagent train --recipe gpu --stage lora --device "$DEVICE" --work "$W" --out "$W"/b --lora-tokens $tokens \
  > "$OUT"/lora.log 2>&1; rc=$?
grep -v "it/s\]\|s/it\]" "$OUT"/lora.log | tail -c 1500; log "lora rc=$rc"
tar czf "$OUT"/lora.tgz -C "$W"/b/lora --exclude='*.pt' . 2>/dev/null
ls -la "$OUT"; log done
