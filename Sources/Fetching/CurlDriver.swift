internal import CCurl
import Foundation
import Synchronization

/// One HTTP request and response, without following redirects: what ``CurlDriver`` performs.
struct Exchange: Sendable {
    struct Request: Sendable {
        var url: URL
        var headers: [(name: String, value: String)]
        var timeout: Duration
        /// A body to POST; nil for a GET.
        var body: Data? = nil
    }

    struct Response: Sendable {
        var status: Int
        var effectiveURL: URL
        /// Where a 3xx points, resolved against the request URL by libcurl.
        var redirectURL: String?
        var headers: [String: String]
        var body: Data
        var dns: Duration
        var connect: Duration
        var tls: Duration
        var firstByte: Duration
    }

    /// Why an exchange gave no response.
    enum Failure: Error, Sendable {
        case curl(code: Int, message: String, timedOut: Bool)
        case bodyTooLarge(limit: Int)
        case privateAddress(IPAddress)
    }
}

/// Runs HTTP exchanges on one libcurl multi handle, driven by one dedicated thread.
///
/// Callers on any task hand requests to the thread through a locked inbox and wake it with
/// `curl_multi_wakeup`; the thread admits them within the concurrency limits, runs
/// `curl_multi_perform` / `curl_multi_poll`, and resumes each caller's continuation when its
/// transfer ends.
///
/// - Important: every curl handle, the multi handle and each easy handle, is touched only by the
///   driver thread (`curl_multi_wakeup`, which libcurl documents as callable from any thread, is
///   the one exception). That invariant is what makes `@unchecked Sendable` true here.
final class CurlDriver: @unchecked Sendable {
    private enum Command {
        case start(id: UInt64, Exchange.Request, CheckedContinuation<Exchange.Response, any Error>)
        case cancel(id: UInt64)
    }

    private struct Inbox {
        var commands: [Command] = []
        var stopping = false
        /// The driver thread is about to wait, or waiting, in `curl_multi_poll` with nothing to
        /// do: the next command wakes it. Otherwise commands wait for its next pass unannounced
        /// (a wakeup per request, a write to curl's socketpair and a thread switch, had cost a
        /// warm cycle of a thousand requests ~10% of its CPU).
        var driverWaits = false
    }

    private let inbox = Mutex(Inbox())
    private let nextID = Atomic<UInt64>(1)
    private let multi: UnsafeMutableRawPointer
    private let configuration: FetcherConfiguration

    init(configuration: FetcherConfiguration) {
        CurlDriver.globalInit
        self.configuration = configuration
        multi = curl_multi_init()
        ew_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, configuration.maxConcurrent * 2)
        let thread = Thread { [self] in
            // Set by the thread itself: Foundation on Linux applies a name given before `start()`
            // to nothing the kernel sees. At most 15 bytes (the kernel's limit for `comm`).
            Thread.current.name = "ew-curl-driver"
            DriverLoop(driver: self).run()
        }
        thread.start()
    }

    /// `curl_global_init` runs once, before any handle exists.
    private static let globalInit: Void = {
        let code = ew_global_init()
        precondition(code == CURLE_OK, "curl_global_init failed: \(String(cString: curl_easy_strerror(code)))")
    }()

    /// Performs one exchange; resumes when it ends, or throws `CancellationError` when the task is
    /// cancelled (the transfer is then removed from the multi handle).
    func perform(_ request: Exchange.Request) async throws -> Exchange.Response {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                send(.start(id: id, request, continuation))
            }
        } onCancel: {
            send(.cancel(id: id))
        }
    }

    /// Stops the thread: transfers under way end with `CancellationError`.
    func stop() {
        inbox.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
    }

    private func send(_ command: Command) {
        let wakesDriver = inbox.withLock { inbox in
            inbox.commands.append(command)
            defer { inbox.driverWaits = false }
            return inbox.driverWaits
        }
        if wakesDriver { curl_multi_wakeup(multi) }
    }

    /// The driver thread's own state; lives and dies on that thread.
    private final class DriverLoop {
        let driver: CurlDriver
        typealias Pending = (
            id: UInt64, host: String, request: Exchange.Request,
            continuation: CheckedContinuation<Exchange.Response, any Error>
        )
        /// Exchanges waiting for a slot, oldest first.
        var pending: [Pending] = []
        var active: [UInt64: Transfer] = [:]
        var activeByHandle: [UnsafeMutableRawPointer: UInt64] = [:]
        var perHost: [String: Int] = [:]
        var cancelledEarly: Set<UInt64> = []
        /// Handles of closed transfers, reset, for the next ones: a new handle per transfer was
        /// an allocation and its defaults each time (~2 ms of a warm cycle of a thousand sources).
        /// No more are kept than transfers can run at once.
        var idleHandles: [UnsafeMutableRawPointer] = []

        init(driver: CurlDriver) { self.driver = driver }

        func run() {
            let multi = driver.multi
            while true {
                let (commands, stopping) = driver.inbox.withLock { inbox in
                    defer {
                        inbox.commands.removeAll(keepingCapacity: true)
                        inbox.driverWaits = false
                    }
                    return (inbox.commands, inbox.stopping)
                }
                if stopping { break }
                for command in commands { handle(command) }
                admit()
                var running: Int32 = 0
                curl_multi_perform(multi, &running)
                var queued: Int32 = 0
                while let message = curl_multi_info_read(multi, &queued) {
                    guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                    finish(easy, result: message.pointee.data.result)
                }
                // Fill the slots that finished transfers freed; a new handle makes the poll return at once.
                admit()
                // Waits only when no command came meanwhile; from here on, a command wakes the poll.
                let waits = driver.inbox.withLock { inbox in
                    inbox.driverWaits = inbox.commands.isEmpty && !inbox.stopping
                    return inbox.driverWaits
                }
                if waits { curl_multi_poll(multi, nil, 0, 1000, nil) }
            }
            for transfer in active.values {
                curl_multi_remove_handle(multi, transfer.easy)
                transfer.continuation.resume(throwing: CancellationError())
                transfer.close()
                curl_easy_cleanup(transfer.easy)
            }
            for easy in idleHandles { curl_easy_cleanup(easy) }
            for entry in pending { entry.continuation.resume(throwing: CancellationError()) }
            for command in driver.inbox.withLock({ $0.commands }) {
                if case .start(_, _, let continuation) = command { continuation.resume(throwing: CancellationError()) }
            }
            curl_multi_cleanup(multi)
        }

        private func handle(_ command: Command) {
            switch command {
            case .start(let id, let request, let continuation):
                if cancelledEarly.remove(id) != nil {
                    continuation.resume(throwing: CancellationError())
                } else {
                    pending.append((id, (request.url.host ?? "").lowercased(), request, continuation))
                }
            case .cancel(let id):
                if let transfer = active.removeValue(forKey: id) {
                    curl_multi_remove_handle(driver.multi, transfer.easy)
                    release(transfer, id: id)
                    transfer.continuation.resume(throwing: CancellationError())
                } else if let index = pending.firstIndex(where: { $0.id == id }) {
                    pending.remove(at: index).continuation.resume(throwing: CancellationError())
                } else {
                    cancelledEarly.insert(id)
                }
            }
        }

        /// Starts pending exchanges, oldest first, while the total and per-host limits allow.
        private func admit() {
            let limits = driver.configuration
            // The entries looked at leave the queue in one move at the end, except those whose host
            // is full (removing each started entry on its own moved the whole queue every time).
            var skipped: [Pending] = []
            var index = 0
            defer { pending.replaceSubrange(0..<index, with: skipped) }
            while index < pending.count && active.count < limits.maxConcurrent {
                let entry = pending[index]
                index += 1
                guard perHost[entry.host, default: 0] < limits.maxPerHost else {
                    skipped.append(entry)
                    continue
                }
                let transfer = Transfer(
                    easy: idleHandles.popLast() ?? curl_easy_init(), request: entry.request, host: entry.host,
                    configuration: limits, continuation: entry.continuation)
                let code = curl_multi_add_handle(driver.multi, transfer.easy)
                guard code == CURLM_OK else {
                    transfer.continuation.resume(
                        throwing: Exchange.Failure.curl(
                            code: Int(code.rawValue), message: String(cString: curl_multi_strerror(code)),
                            timedOut: false))
                    recycle(transfer)
                    continue
                }
                active[entry.id] = transfer
                activeByHandle[transfer.easy] = entry.id
                perHost[entry.host, default: 0] += 1
            }
        }

        private func finish(_ easy: UnsafeMutableRawPointer, result: CURLcode) {
            guard let id = activeByHandle[easy], let transfer = active.removeValue(forKey: id) else { return }
            let outcome = transfer.result(of: result)
            curl_multi_remove_handle(driver.multi, easy)
            release(transfer, id: id)
            transfer.continuation.resume(with: outcome)
        }

        private func release(_ transfer: Transfer, id: UInt64) {
            activeByHandle[transfer.easy] = nil
            perHost[transfer.host, default: 1] -= 1
            if perHost[transfer.host] == 0 { perHost[transfer.host] = nil }
            recycle(transfer)
        }

        /// Closes a transfer that is out of the multi handle and keeps its handle for a later one.
        private func recycle(_ transfer: Transfer) {
            transfer.close()
            if idleHandles.count < driver.configuration.maxConcurrent {
                idleHandles.append(transfer.easy)
            } else {
                curl_easy_cleanup(transfer.easy)
            }
        }
    }
}
