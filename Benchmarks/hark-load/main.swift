// hark-load: real-time WebSocket load on `hark serve`, run by hand (never in CI).
//
//   swift run -c release hark-load --url ws://127.0.0.1:8080/v1/stream --clients 16 --seconds 60 \
//       [--pid SERVER_PID] WAV [WAV …]
//
// Each client streams the WAVs (16-bit, at the model's rate), one after another with 1 s of
// silence between them, repeated to fill --seconds, paced in real time in 100 ms messages, then
// sends {"type": "eof"}. For every word of every final result, the delay is the time from the
// moment the audio up to the word's end had been sent to the first message (partial or final)
// with a word at its place (starting within 0.15 s of it); the "correct" delay waits for the
// word spelled as the final result has it. Prints one JSON object: delays (p50, p90, p99, max), results, errors, and
// with --pid the server's CPU use over the run (100% = one core).

import Foundation
import HarkAudio
import HummingbirdWSClient
import Logging
import NIOCore

func option(_ name: String, _ fallback: String) -> String {
    let a = CommandLine.arguments
    if let i = a.firstIndex(of: name), i + 1 < a.count { return a[i + 1] }
    return fallback
}

func percentile(_ xs: [Double], _ p: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s[min(s.count - 1, Int((p / 100 * Double(s.count - 1)).rounded()))]
}

/// utime + stime of a process, in seconds.
func cpuSeconds(_ pid: Int) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

struct Received: Sendable {
    var at: Double
    var type: String
    var words: [(word: String, start: Double, end: Double)]
}

final class Log: @unchecked Sendable {
    let lock = NSLock()
    var messages: [Received] = []
    var errors: [String] = []
    func add(_ r: Received) { lock.lock(); messages.append(r); lock.unlock() }
    func error(_ e: String) { lock.lock(); errors.append(e); lock.unlock() }
}

let url = option("--url", "ws://127.0.0.1:8080/v1/stream")
let clients = Int(option("--clients", "16")) ?? 16
let seconds = Double(option("--seconds", "60")) ?? 60
let pid = Int(option("--pid", ""))
var files: [String] = []
var skip = false
for a in CommandLine.arguments.dropFirst() {
    if skip { skip = false; continue }
    if a.hasPrefix("--") { skip = true; continue }
    files.append(a)
}
guard !files.isEmpty else {
    FileHandle.standardError.write(Data("usage: hark-load --url URL --clients N --seconds S [--pid PID] WAV…\n".utf8))
    exit(2)
}
let rate = 16_000
var one: [Int16] = []
for f in files {
    let samples = try AudioLoader.load(f, options: AudioLoadOptions(targetSampleRate: rate)).waveform.samples
    one += samples.map { Int16(max(-32768, min(32767, ($0 * 32768).rounded()))) }
    one += [Int16](repeating: 0, count: rate)
}
var stream: [Int16] = []
while Double(stream.count) < seconds * Double(rate) { stream += one }
stream = Array(stream.prefix(Int(seconds * Double(rate))))
let chunk = rate / 10
let messages: [[UInt8]] = stride(from: 0, to: stream.count, by: chunk).map { lo in
    var bytes: [UInt8] = []
    for v in stream[lo..<min(stream.count, lo + chunk)] {
        let u = UInt16(bitPattern: v)
        bytes += [UInt8(u & 0xFF), UInt8(u >> 8)]
    }
    return bytes
}

let logs = (0..<clients).map { _ in Log() }
let cpuBefore = pid.flatMap(cpuSeconds)
let wallStart = Date()
var logger = Logger(label: "hark-load")
logger.logLevel = .error
try await withThrowingTaskGroup(of: Void.self) { group in
    for c in 0..<clients {
        let log = logs[c]
        group.addTask {
            do {
                try await WebSocketClient.connect(url: url, logger: logger) { inbound, outbound, _ in
                    let t0 = Date()
                    try await withThrowingTaskGroup(of: Void.self) { inner in
                        inner.addTask {
                            for (i, m) in messages.enumerated() {
                                // Message i carries audio up to (i + 1) · 0.1 s: sent when that much time has passed.
                                let due = Double(i + 1) * Double(chunk) / Double(rate) - Date().timeIntervalSince(t0)
                                if due > 0 { try await Task.sleep(nanoseconds: UInt64(due * 1e9)) }
                                try await outbound.write(.binary(ByteBuffer(bytes: m)))
                            }
                            try await outbound.write(.text(#"{"type": "eof"}"#))
                        }
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            guard case .text(let text) = message,
                                let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                            else { continue }
                            let type = o["type"] as? String ?? "?"
                            if type == "error" { log.error(o["error"] as? String ?? text); continue }
                            let words = (o["words"] as? [[String: Any]] ?? []).map {
                                ($0["word"] as? String ?? "", $0["start"] as? Double ?? 0, $0["end"] as? Double ?? 0)
                            }
                            log.add(Received(at: Date().timeIntervalSince(t0), type: type, words: words))
                        }
                        try await inner.waitForAll()
                    }
                }
            } catch {
                log.error("\(error)")
            }
        }
    }
    try await group.waitForAll()
}
let wall = Date().timeIntervalSince(wallStart)
let cpuAfter = pid.flatMap(cpuSeconds)

// Delay from a word's end (as sent) to the first message with a word at its place (its partial),
// and to the first message with that word spelled as the final has it.
var delays: [Double] = [], correctDelays: [Double] = []
var finals = 0, partials = 0, errors = 0
for log in logs {
    errors += log.errors.count
    finals += log.messages.filter { $0.type == "final" }.count
    partials += log.messages.filter { $0.type == "partial" }.count
    for final in log.messages where final.type == "final" {
        for w in final.words {
            let shown = log.messages.first { m in m.words.contains { abs($0.start - w.start) <= 0.15 } }
            let correct = log.messages.first { m in
                m.words.contains { $0.word == w.word && abs($0.start - w.start) <= 0.15 }
            }
            if let shown { delays.append(shown.at - w.end) }
            if let correct { correctDelays.append(correct.at - w.end) }
        }
    }
}
var result: [String: Any] = [
    "benchmark": "websocket-streams", "clients": clients, "seconds_per_client": seconds, "wall_seconds": wall,
    "finals": finals, "partials": partials, "errors": errors, "words_timed": delays.count,
    "delay_p50_s": percentile(delays, 50), "delay_p90_s": percentile(delays, 90),
    "delay_p99_s": percentile(delays, 99), "delay_max_s": delays.max() ?? .nan,
    "correct_delay_p50_s": percentile(correctDelays, 50), "correct_delay_p99_s": percentile(correctDelays, 99)
]
if let a = cpuBefore, let b = cpuAfter { result["server_cpu_percent_of_one_core"] = 100 * (b - a) / wall }
if errors > 0 { result["first_errors"] = Array(logs.flatMap(\.errors).prefix(3)) }
let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
print(String(decoding: data, as: UTF8.self))
