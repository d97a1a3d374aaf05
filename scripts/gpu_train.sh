#!/usr/bin/env bash
# Train saphnet-s on a lent GPU in calls of at most 10 minutes (the `device` tool), resuming each time.
#
#   bash scripts/gpu_train.sh pack-shards [DATA]  # on this machine, once: split all the training data into
#                                                 # shards of < 38 MiB under carry-shards/ (git-ignored)
#   bash scripts/gpu_train.sh use K               # before call K: put shard K into carry/ (git-ignored)
#   bash scripts/gpu_train.sh train               # on the GPU machine: resume (or start from $INIT), train
#                                                 # for TIME_LIMIT seconds, leave checkpoint, export,
#                                                 # snapshots and log in $OUT, print the steady steps/s
#   bash scripts/gpu_train.sh unpack DIR          # back here: put the returned checkpoint into carry/run/
#   bash scripts/gpu_train.sh probe               # on the GPU machine: steps/s of each BATCHxCROP[:COMPILE]
#                                                 # in $PROBE (default "16x256 32x256 16x384 16x256:default
#                                                 # 16x256:reduce-overhead"), PROBE_SECONDS (default 30) each,
#                                                 # PROBE_COMPILE_SECONDS (default 180) more when compiled,
#                                                 # from the shipped weights, on carry/ (about 8 minutes)
#   bash scripts/gpu_train.sh pack [DATA]         # instead of pack-shards + use: the one fixed subset that
#                                                 # run 5 (the shipped weights) was trained on
#
# A call: run(command="bash scripts/gpu_train.sh train", carry=["carry"]); then unpack the files it returns.
# Then score the returned snapshots here: python scripts/score_weights.py DIR/snapshots/step-* --set ... ;
# best/ is picked on synthetic blur, which tracked val/gopro weakly (r = 0.26 over 13 past candidates).
# Shards (scripts/pack_shards.py): shard k holds the k-th third of the GoPro-recipe frames and every third
# photo of ../shared/data/sharp (BSDS500 val_* excluded; PNGs as JPEG q95), so three calls see all the data;
# the run's folders stay carry/frames and carry/sharp, so it resumes across shards. carry/val holds 24
# held-out BSDS500 val_* photos: the run validates on them every VAL_EVERY steps (log.jsonl) and exports the
# best EMA so far to best/. With the checkpoint (about 17 MiB) and the repo (about 8 MiB), a call carries
# under 64 MiB. The checkpoint comes back in parts under 16 MiB each, which unpack joins.
# Environment: TIME_LIMIT (default 540 s), STEPS (the run's length, default 20000), UNTIL (stop at this step,
# default: STEPS), PRESET (default saphnet-s), ARCH (space-separated FIELD=VALUE changes to the preset's
# network, `deblur train --arch`, e.g. "blocks=1"), INIT (weights a new run starts from, default
# weights/saphnet-s; a wider or deeper network's weights are cut down to the preset's), TEACHER and
# TEACHER_WEIGHT (a second target on the GoPro-recipe samples, e.g. weights/saphnet-b and 1.0; default none),
# FEATURE_WEIGHT (with a SAPHNet TEACHER: also match its stage-1 features, `deblur train --feature-weight`, e.g.
# 0.1; default 0), DEVICE (default cuda), BATCH (default 16), CROP (default 256), WORKERS (data-preparing
# processes, default 12 of the 16 cores; each caches up to 160 decoded frames, about 450 MB), SNAPSHOT_EVERY
# (export the EMA every this many steps, default 500), VAL_EVERY (default 500), MIX (photos, frames, pairs;
# default 1,2,0), FRAME_STRIDE (default 1,1), LR (default 2e-4), CHECKPOINT_BACK (0: leave the checkpoint on the
# GPU machine; default 1), COMPILE (torch.compile: off, default or reduce-overhead; default off until a run
# shows it pays; if compiling fails, the run warns and goes on uncompiled), PYTHON (default python3: the GPU
# image has torch, typer, rich, opencv, imageio, pillow, safetensors and huggingface-hub, so the repo runs there
# uninstalled).
# STEPS, BATCH, CROP, MIX, FRAME_STRIDE, LR, PRESET, ARCH, TEACHER and FEATURE_WEIGHT are read when the run
# starts; a resumed run keeps its own.
set -euo pipefail
cd "$(dirname "$0")/.."
# Compiled kernels are cached in the repo's copy on the GPU machine, which keeps ignored files between calls.
export TORCHINDUCTOR_CACHE_DIR="${TORCHINDUCTOR_CACHE_DIR:-$PWD/.inductor-cache}"
CARRY=carry
DATA_LIMIT_MIB=39  # + the checkpoint (16.4 MiB) + the repo (7.6 MiB) on every call after the first: 64 in all

# steady_rate LOG LABEL: steps/s and Mpx/s over the second half of the last run in LOG (the first half holds the
# workers' start and any compiling, whose first step is timed apart). LABEL is BATCHxCROP[:anything]: for a
# resumed run, give the batch and crop it was started with.
steady_rate() {
    "${PYTHON:-python3}" - "$1" "$2" <<'PY'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
start = max(i for i, r in enumerate(records) if i == 0 or r["seconds"] < records[i - 1]["seconds"])
records = records[start:]
elapsed = [r["seconds"] for r in records]
half = len(records) // 2
first_step = f"first step {elapsed[0]:.1f} s"
if records[-1]["step"] - records[half]["step"] < 2:
    print(f"{sys.argv[2]}: only {len(records)} steps ({first_step}); too short to time")
    sys.exit()
rate = (records[-1]["step"] - records[half]["step"]) / (elapsed[-1] - elapsed[half])
batch, crop = map(int, sys.argv[2].split(":")[0].split("x"))
print(f"{sys.argv[2]}: {rate:.2f} steps/s, {rate * batch * crop * crop / 1e6:.1f} Mpx/s "
      f"({len(records)} steps, {first_step})")
PY
}

# The network and its teacher, as `deblur train` options, for train and probe.
network=(--preset "${PRESET:-saphnet-s}")
for change in ${ARCH:-}; do network+=(--arch "$change"); done
[ -n "${TEACHER:-}" ] && network+=(--teacher "$TEACHER" --teacher-weight "${TEACHER_WEIGHT:-1.0}"
                               --feature-weight "${FEATURE_WEIGHT:-0}")

case "${1:-}" in
pack-shards)
    # 38 MiB a shard: with val/ (1.8 MiB), the checkpoint and the repo, a call carries under 64 MiB.
    "${PYTHON:-python3}" scripts/pack_shards.py "${2:-../shared/data}" carry-shards --limit-mib 38
    ;;
use)
    shard="carry-shards/${2:?give the shard number}"
    [ -d "$shard" ] || { echo "no $shard: run 'bash scripts/gpu_train.sh pack-shards' first" >&2; exit 1; }
    rm -rf "$CARRY/frames" "$CARRY/sharp" "$CARRY/val"
    mkdir -p "$CARRY/run"
    cp -r "$shard/frames" "$shard/sharp" "$CARRY/"
    cp -r carry-shards/val "$CARRY/"
    echo "carry/ now holds shard $2: $(du -sh "$CARRY" --exclude=run | cut -f1) of data"
    ;;
pack)
    data="${2:-../shared/data}"
    rm -rf "$CARRY/frames" "$CARRY/sharp" "$CARRY/val"
    mkdir -p "$CARRY/frames" "$CARRY/sharp" "$CARRY/run"
    # Frames 1-159 of the training sequence: its first unbroken run (160-210 are held out for val/gopro).
    for f in "$data"/frames/GOPR0477_11_00/000{001..159}.jpg; do
        [ -e "$f" ] && cp "$f" "$CARRY/frames/"
    done
    # BSDS500 train_* (val_* is the held-out set) and Kodak24, re-encoded as JPEG q95 to fit the limit.
    find "$data"/sharp/bsds500 -name 'train_*' | sort | head -n 140 | xargs -I{} cp {} "$CARRY/sharp/"
    "${PYTHON:-python3}" - "$data/sharp/kodak24" "$CARRY/sharp" <<'PY'
import pathlib, sys
import cv2
src, dst = map(pathlib.Path, sys.argv[1:])
for path in sorted(src.glob("*.png")):
    cv2.imwrite(str(dst / f"kodak_{path.stem}.jpg"), cv2.imread(str(path)), [cv2.IMWRITE_JPEG_QUALITY, 95])
PY
    size=$(( $(du -sb "$CARRY/frames" "$CARRY/sharp" | awk '{n += $1} END {print n}') / 1048576 ))
    echo "carry/ holds ${size} MiB ($(ls "$CARRY/frames" | wc -l) frames, $(ls "$CARRY/sharp" | wc -l) photos)"
    if [ "$size" -gt "$DATA_LIMIT_MIB" ]; then
        echo "carry/ is over ${DATA_LIMIT_MIB} MiB: with the checkpoint, a call would carry over 64 MiB" >&2
        exit 1
    fi
    ;;
train)
    out="${OUT:?set OUT to the folder whose files come back}"
    [ -d "$CARRY/frames" ] || { echo "no $CARRY/frames: run 'bash scripts/gpu_train.sh pack' first" >&2; exit 1; }
    mkdir -p "$CARRY/run"
    rm -rf "$CARRY/run/snapshots"  # only this call's come back
    validation=()
    [ -d "$CARRY/val" ] && validation=(--val-sharp "$CARRY/val" --val-count 24 --val-every "${VAL_EVERY:-500}")
    "${PYTHON:-python3}" -m deblur_cli train -o "$CARRY/run" "${network[@]}" --init "${INIT:-weights/saphnet-s}" \
        --frames "$CARRY/frames" --sharp "$CARRY/sharp" --mix "${MIX:-1,2,0}" --frame-stride "${FRAME_STRIDE:-1,1}" \
        --steps "${STEPS:-20000}" --batch-size "${BATCH:-16}" --crop "${CROP:-256}" --lr "${LR:-2e-4}" --warmup 200 \
        --stage1-steps 0 --random-steps 0 --ema-decay 0.999 --checkpoint-every 200 \
        --workers "${WORKERS:-12}" --frame-cache 160 --snapshot-every "${SNAPSHOT_EVERY:-500}" "${validation[@]}" \
        --until "${UNTIL:-${STEPS:-20000}}" --time-limit "${TIME_LIMIT:-540}" --device "${DEVICE:-cuda}" \
        --compile "${COMPILE:-off}" --export "$out/export" --quiet
    # A file comes back only under 16 MiB: the checkpoint (about 17 MiB) comes back in parts, unless
    # CHECKPOINT_BACK=0 (a one-call run: at most 8 files and 64 MiB come back in all).
    if [ "${CHECKPOINT_BACK:-1}" != 0 ]; then split -b 15M "$CARRY/run/checkpoint.pt" "$out/checkpoint.pt.part-"; fi
    cp "$CARRY/run/log.jsonl" "$out/"
    for folder in snapshots best; do
        if [ -d "$CARRY/run/$folder" ]; then cp -r "$CARRY/run/$folder" "$out/"; fi
    done
    tail -n 1 "$out/log.jsonl"
    steady_rate "$out/log.jsonl" "${BATCH:-16}x${CROP:-256}:${COMPILE:-off}"
    ;;
probe)
    # The GPU step, not the data, most likely set run 5's pace (docs/performance.md): a larger batch or crop
    # may cost few steps/s, and compiling may launch fewer kernels.
    [ -d "$CARRY/frames" ] || { echo "no $CARRY/frames: run 'bash scripts/gpu_train.sh use 0' first" >&2; exit 1; }
    for config in ${PROBE:-16x256 32x256 16x384 16x256:default 16x256:reduce-overhead}; do
        size=${config%%:*} mode=off
        [[ $config == *:* ]] && mode=${config#*:}
        dir=$(mktemp -d)
        # The time limit counts from the start: a compiling first step gets PROBE_COMPILE_SECONDS more.
        limit=${PROBE_SECONDS:-30}
        [ "$mode" = off ] || limit=$(( limit + ${PROBE_COMPILE_SECONDS:-180} ))
        "${PYTHON:-python3}" -m deblur_cli train -o "$dir" "${network[@]}" --init "${INIT:-weights/saphnet-s}" \
            --frames "$CARRY/frames" --sharp "$CARRY/sharp" --mix "${MIX:-1,2,0}" --steps 1000000 \
            --batch-size "${size%x*}" --crop "${size#*x}" --stage1-steps 0 --random-steps 0 \
            --checkpoint-every 1000000 --workers "${WORKERS:-12}" --frame-cache 160 --compile "$mode" \
            --time-limit "$limit" --device "${DEVICE:-cuda}" --quiet || { echo "$config: failed"; continue; }
        steady_rate "$dir/log.jsonl" "$config"
        rm -rf "$dir"
    done
    ;;
unpack)
    from="${2:?give the folder the returned files are in}"
    mkdir -p "$CARRY/run"
    cat "$from"/checkpoint.pt.part-* > "$CARRY/run/checkpoint.pt.tmp"
    mv "$CARRY/run/checkpoint.pt.tmp" "$CARRY/run/checkpoint.pt"
    rm -f "$CARRY/run/log.jsonl"  # each call's log stays in the folder it came back in: it would not fit
    echo "carry/run/ now resumes at step $(tail -n 1 "$from/log.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["step"])')"
    ;;
*)
    sed -n 2,42p "$0" >&2
    exit 2
    ;;
esac
