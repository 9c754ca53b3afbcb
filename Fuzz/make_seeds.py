"""Writes the tiny seed files in Fuzz/corpus/ that are not copies of test
fixtures: a three-tensor safetensors file, 1-D and 2-D .npy files (numpy),
two Kaldi archives in KaldiArchiveWriter's layout, two manifests and two
eight-sample WAVs. Run from Fuzz/: python3 make_seeds.py"""
import io
import json
import struct

import numpy as np


def safetensors(tensors, meta=None):
    header, offset, data = {}, 0, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    if meta:
        header["__metadata__"] = meta
    j = json.dumps(header, separators=(",", ":")).encode()
    j += b" " * (-len(j) % 8)
    return struct.pack("<Q", len(j)) + j + data


def kaldi_matrix(key, rows, cols):
    return (key.encode() + b" \0BFM \4" + struct.pack("<i", rows) + b"\4" + struct.pack("<i", cols)
            + struct.pack("<%df" % (rows * cols), *range(rows * cols)))


def wav(fmt, bits, channels, rate, payload):
    align = channels * bits // 8
    fmt_chunk = struct.pack("<HHIIHH", fmt, channels, rate, rate * align, align, bits)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
            + b"data" + struct.pack("<I", len(payload)) + payload)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


write("corpus/safetensors/tiny.safetensors", safetensors([
    ("output.weight", "F32", [2, 3], struct.pack("<6f", *range(6))),
    ("output.bias", "F32", [2], struct.pack("<2f", 0.5, -1)),
    ("step", "I64", [], struct.pack("<q", 7))], {"format": "pt"}))
for name, a in [("row.npy", np.arange(3, dtype="<f4")), ("m.npy", np.arange(6, dtype="<f4").reshape(2, 3))]:
    b = io.BytesIO()
    np.save(b, a)
    write("corpus/npy/" + name, b.getvalue())
write("corpus/kaldi/two.ark", kaldi_matrix("utt1", 3, 2) + kaldi_matrix("spk/utt2", 1, 3))
write("corpus/kaldi/empty-matrix.ark", kaldi_matrix("a", 0, 13))
write("corpus/manifest/nemo.jsonl",
      b'{"audio_filepath": "a/x.wav", "text": "hello world", "duration": 1.5}\r\n\n{"audio_filepath": "/abs/y.flac"}\n')
write("corpus/manifest/two.tsv", b"x.wav\tONE TWO\nz.wav\n")
write("corpus/audio/s16.wav", wav(1, 16, 1, 16000, struct.pack("<8h", 0, 1000, -1000, 32767, -32768, 5, 6, 7)))
write("corpus/audio/f32-stereo.wav", wav(3, 32, 2, 8000, struct.pack("<8f", 0, .5, -.5, 1, -1, .25, .125, 0)))
