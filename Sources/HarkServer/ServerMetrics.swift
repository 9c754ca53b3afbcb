import Foundation
import Prometheus

/// What `GET /metrics` reports, in Prometheus's text format (swift-prometheus):
///
/// - `hark_requests_total{route, status}`: answered HTTP requests and WebSocket streams.
/// - `hark_errors_total{route, kind}`: requests refused or failed (bad_audio, bad_request,
///   too_large, unsupported_media_type, overloaded, timeout, internal).
/// - `hark_audio_seconds_total{route}`: seconds of audio recognised.
/// - `hark_processing_seconds_total{route}`: seconds spent recognising it; the ratio of the two is the
///   real-time factor over the server's life.
/// - `hark_real_time_factor{route}`: histogram of each request's processing time / audio duration.
/// - `hark_request_seconds{route}`: histogram of request latency (arrival to answer).
/// - `hark_open_streams`: WebSocket streams open now; `hark_queued_jobs`: recognition jobs waiting.
public final class ServerMetrics: Sendable {
    /// The registry the metrics are kept in.
    public let registry = PrometheusCollectorRegistry()
    private let openStreams: Gauge
    private let queuedJobs: Gauge

    /// `hark_NAME_UNIT`.
    private static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "hark", metricName: name, unitName: unit, helpText: help)
    }
    private static let requests = name("requests", "total", "Answered requests and streams")
    private static let errors = name("errors", "total", "Requests refused or failed")
    private static let audio = name("audio_seconds", "total", "Seconds of audio recognised")
    private static let processing = name("processing_seconds", "total", "Seconds spent recognising")
    private static let realTimeFactor = name("real_time", "factor", "Processing time over audio duration, per request")
    private static let requestSeconds = name("request", "seconds", "Request latency, arrival to answer")

    /// Metrics at zero, with the two gauges registered.
    public init() {
        openStreams = registry.makeGauge(descriptor: Self.name("open", "streams", "WebSocket streams open now"))
        queuedJobs = registry.makeGauge(descriptor: Self.name("queued", "jobs", "Recognition jobs waiting for a worker"))
    }

    /// One answered request or stream: `hark_requests_total{route, status}`.
    public func request(route: String, status: Int) {
        registry.makeCounter(descriptor: Self.requests, labels: [("route", route), ("status", String(status))]).increment()
    }

    /// One request refused or failed: `hark_errors_total{route, kind}`.
    public func error(route: String, kind: String) {
        registry.makeCounter(descriptor: Self.errors, labels: [("route", route), ("kind", kind)]).increment()
    }

    /// One recognition: `audio` seconds of audio in `processing` seconds of work.
    public func recognised(route: String, audio: Double, processing: Double) {
        registry.makeCounter(descriptor: Self.audio, labels: [("route", route)]).increment(by: audio)
        registry.makeCounter(descriptor: Self.processing, labels: [("route", route)]).increment(by: processing)
        if audio > 0 {
            registry.makeValueHistogram(
                descriptor: Self.realTimeFactor, labels: [("route", route)],
                buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2]
            ).record(processing / audio)
        }
    }

    /// One request's latency, arrival to answer, in seconds: `hark_request_seconds{route}`.
    public func latency(route: String, seconds: Double) {
        registry.makeValueHistogram(
            descriptor: Self.requestSeconds, labels: [("route", route)],
            buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        ).record(seconds)
    }

    /// A WebSocket stream opened: `hark_open_streams` up by one.
    public func streamOpened() { openStreams.increment(by: 1) }
    /// A WebSocket stream closed: `hark_open_streams` down by one.
    public func streamClosed() { openStreams.decrement(by: 1) }
    /// Sets `hark_queued_jobs` to `n`, the recognition jobs waiting.
    public func queued(_ n: Int) { queuedJobs.set(Double(n)) }

    /// The exposition text.
    public func render() -> String { registry.emitToString() }
}
