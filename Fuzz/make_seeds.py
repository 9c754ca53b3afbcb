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

# The ARPA reader (plain and gzip), the OpenAI form, the stream protocol, the training log.
import gzip
import os

for d in ["arpa", "multipart", "stream", "trainlog"]:
    os.makedirs("corpus/" + d, exist_ok=True)
arpa = (b"\\data\\\nngram 1=4\nngram 2=2\n\n\\1-grams:\n-1.0\t<s>\t-0.5\n-0.6\t</s>\n-0.4\tA\t-0.2\n-0.9\t<unk>\n\n"
        b"\\2-grams:\n-0.1\t<s> A\n-0.2\tA </s>\n\n\\end\\\n")
write("corpus/arpa/bigram.arpa", arpa)
write("corpus/arpa/bigram.arpa.gz", gzip.compress(arpa, mtime=0))
wav16 = wav(1, 16, 1, 16000, struct.pack("<8h", 0, 1000, -1000, 32767, -32768, 5, 6, 7))
write("corpus/multipart/form.txt",
      b"--hark-fuzz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
      + wav16 + b"\r\n--hark-fuzz\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\nverbose_json\r\n"
      b"--hark-fuzz\r\nContent-Disposition: form-data; name=\"stream\"\r\n\r\ntrue\r\n--hark-fuzz--\r\n")


def client_frame(opcode, payload, fin=True, mask=b"\x01\x02\x03\x04"):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


pcm = struct.pack("<160h", *[(i * 97) % 2000 - 1000 for i in range(160)])
write("corpus/stream/pcm-eof.bin", client_frame(2, pcm) + client_frame(2, pcm[:101]) + client_frame(1, b'{"type": "eof"}'))
write("corpus/stream/fragments.bin", client_frame(2, pcm[:64], fin=False) + client_frame(0, pcm[64:], fin=True)
      + client_frame(9, b"ping") + client_frame(1, b'{"type": "eof"}'))
write("corpus/trainlog/run.jsonl",
      b'{"type":"step","epoch":0,"step":1,"loss":3.2,"lr":0.001,"grad_norm":5.1,"frames_per_s":9000,"elapsed":0.5}\n'
      b'{"type":"step","epoch":0,"step":2,"loss":2.9,"lr":0.001,"elapsed":1.0,"eta_s":20}\n'
      b'{"type":"epoch","epoch":0,"step":2,"valid_cer":0.5,"valid_wer":0.8,"best":true,"elapsed":1.2}\n'
      b'{"type":"step","epoch":0,"step":2,"loss":2.8,"elapsed":1.1}\n{"type":"ep')
