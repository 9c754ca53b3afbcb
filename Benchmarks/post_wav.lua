-- wrk script: every request POSTs one WAV to /v1/transcribe (run by Benchmarks/serve_load.sh).
-- wrk counts answers other than 2xx/3xx as "Non-2xx or 3xx responses".
local f = assert(io.open(os.getenv("WAV") or "audio/an52-mmaf-b.wav", "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "audio/wav"
