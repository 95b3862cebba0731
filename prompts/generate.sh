#!/usr/bin/env bash
# Regenerates the voice prompts from texts.tsv: Mandarin speech by espeak-ng (-v cmn),
# converted to what the switch plays: 8 kHz, mono, 16-bit PCM WAV. Also makes moh.wav,
# the music on hold, from a short synthesised melody, and beep.wav, the recording tone.
# Needs: espeak-ng, sox (apt-get install espeak-ng sox).
# Usage: prompts/generate.sh [NAME...]   (no names: every prompt)
set -euo pipefail
cd "$(dirname "$0")"
command -v espeak-ng >/dev/null || { echo "espeak-ng missing: apt-get install espeak-ng" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox missing: apt-get install sox" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

grep -v '^#' texts.tsv | while IFS=$'\t' read -r name text; do
    [ -n "$name" ] || continue
    if [ $# -gt 0 ] && [[ ! " $* " == *" $name "* ]]; then continue; fi
    espeak-ng -v cmn -s 150 -w "$tmp/$name.wav" "$text"
    sox "$tmp/$name.wav" -r 8000 -c 1 -b 16 -e signed-integer "$name.wav" norm -3
    echo "$name.wav"
done

if [ $# -eq 0 ] || [[ " $* " == *" beep "* ]]; then
    # The tone before a prompt is recorded from a phone: 1 kHz for 0.4 s.
    sox -n -r 8000 -c 1 -b 16 -e signed-integer beep.wav synth 0.4 sine 1000 fade 0.01 0.4 0.01 vol 0.5
    echo beep.wav
fi

if [ $# -eq 0 ] || [[ " $* " == *" moh "* ]]; then
    # A gentle eight-note phrase, looped by the switch while a caller waits.
    notes=(523.25 659.25 783.99 659.25 587.33 698.46 880.00 698.46)
    parts=()
    for i in "${!notes[@]}"; do
        sox -n -r 8000 -c 1 -b 16 "$tmp/n$i.wav" synth 0.5 sine "${notes[$i]}" fade 0.02 0.5 0.1 vol 0.3
        parts+=("$tmp/n$i.wav")
    done
    sox "${parts[@]}" -r 8000 -c 1 -b 16 -e signed-integer moh.wav
    echo moh.wav
fi
