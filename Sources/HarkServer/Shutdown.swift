import Dispatch
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

extension HarkRoutes {
    /// Runs `app` until SIGTERM or SIGINT, then shuts down in two steps:
    /// 1. live streams get their last final result and a close with code 1001
    ///    (`RecognitionService.closeStreams`), for up to `streamGrace` seconds;
    /// 2. the server stops taking connections, finishes the requests in flight
    ///    (uploads, OpenAI event streams) and returns.
    /// A second signal skips what is left of the first step.
    public static func runUntilSignalled(
        _ app: some ApplicationProtocol, service: RecognitionService,
        streamGrace: Double = 10
    ) async throws {
        var logger = Logger(label: "hark-serve")
        logger.logLevel = .warning
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let signalled = Flag()
        let sources = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)  // delivered to the source below instead
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let again = signalled.raiseReportingEarlier()
                Task {
                    if !again { await service.closeStreams(timeout: streamGrace) }
                    await group.triggerGracefulShutdown()
                }
            }
            source.resume()
            return source
        }
        defer { for source in sources { source.cancel() } }
        try await group.run()
    }
}
