"""`hark serve`'s OpenAI-compatible endpoint, driven by OpenAI's own Python
client library: every response_format, word and segment timestamps, the
fields Hark accepts and ignores, errors in OpenAI's shape, and stream=True
(server-sent transcript.text.delta / transcript.text.done events).

    python3 openai_sdk_test.py BASE_URL CLIP SESSION

BASE_URL is the server's, e.g. http://127.0.0.1:8080/v1; CLIP a short
recording ("ENTER SEVEN" for audio/an52-mmaf-b.wav), SESSION one with
several utterances (audio/mmaf-session.wav). The expected texts are what the
server's plain JSON route answers, so nothing is hard-coded.
"""
import json
import sys
import urllib.request

import openai
from openai import OpenAI

base, clip, session = sys.argv[1:4]
client = OpenAI(base_url=base, api_key="not-needed", max_retries=0, timeout=120)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def plain_text(path):
    """The text of POST /v1/transcribe, as `hark transcribe --format json` prints it."""
    request = urllib.request.Request(base.rsplit("/v1", 1)[0] + "/v1/transcribe", data=open(path, "rb").read(),
                                     headers={"Content-Type": "audio/wav"})
    return json.load(urllib.request.urlopen(request))["text"]


expected, expected_session = plain_text(clip), plain_text(session)
check(expected != "" and len(expected_session.split()) > len(expected.split()), f"reference texts {expected!r}, {expected_session!r}")

# Every response_format, with the fields a client sends and Hark ignores.
common = dict(model="whisper-1", language="en", prompt="digits", temperature=0.0)
t = client.audio.transcriptions.create(file=open(clip, "rb"), **common)
check(t.text == expected, f"json: {t.text!r}")
for fmt in ["text", "srt", "vtt"]:
    t = client.audio.transcriptions.create(file=open(clip, "rb"), response_format=fmt, **common)
    check(isinstance(t, str) and expected in t, f"{fmt}: {t!r}")
    if fmt == "vtt":
        check(t.startswith("WEBVTT"), "vtt header")
    if fmt == "srt":
        check(t.startswith("1\n") and "-->" in t, "srt cue")
t = client.audio.transcriptions.create(file=open(session, "rb"), response_format="verbose_json",
                                       timestamp_granularities=["word", "segment"], **common)
check(t.text == expected_session, f"verbose_json text {t.text!r}")
check(len(t.words) == len(expected_session.split()), f"verbose_json: {len(t.words)} words")
check(all(0 <= w.start < w.end <= t.duration + 0.05 for w in t.words), "word times within the recording")
check(len(t.segments) >= 2 and all(s.start < s.end for s in t.segments), f"{len(t.segments)} segments")
check(" ".join(s.text for s in t.segments) == t.text, "segments spell the text")
t = client.audio.transcriptions.create(model="whisper-1", file=open(clip, "rb"), response_format="verbose_json", timestamp_granularities=["segment"])
check(t.segments and not getattr(t, "words", None), "segment granularity alone")

# Errors in OpenAI's shape: the client raises them with status and message.
for what, kwargs, phrase in [
    ("bad response_format", dict(file=open(clip, "rb"), response_format="xml"), "response_format"),
    ("not audio", dict(file=("notes.wav", b"this is not audio at all" * 10)), "notes.wav"),
    ("bad granularity", dict(file=open(clip, "rb"), response_format="verbose_json", timestamp_granularities=["char"]), "granularities"),
]:
    try:
        client.audio.transcriptions.create(model="whisper-1", **kwargs)
        check(False, f"{what}: no error")
    except openai.BadRequestError as e:
        check(e.status_code == 400 and phrase in str(e.message), f"{what}: {e.status_code} {e.message}")

# stream=True: deltas as each utterance ends, then the whole text.
events = list(client.audio.transcriptions.create(model="gpt-4o-transcribe", file=open(session, "rb"), stream=True))
types = [e.type for e in events]
check(types[-1] == "transcript.text.done" and types.count("transcript.text.done") == 1, f"stream ends with done: {types}")
deltas = [e.delta for e in events if e.type == "transcript.text.delta"]
check(len(deltas) >= 2, f"{len(deltas)} deltas")
check("".join(deltas) == events[-1].text == expected_session, f"deltas spell the text: {''.join(deltas)!r}")
try:
    list(client.audio.transcriptions.create(model="gpt-4o-transcribe", file=("bad.wav", b"RIFF" + b"\0" * 100), stream=True))
    check(False, "stream of bad audio: no error")
except openai.APIError as e:
    check("bad.wav" in str(e.message), f"stream of bad audio: {e.message}")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
