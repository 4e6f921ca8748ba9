internal import CCurl
import Foundation

/// One easy handle and everything its callbacks need, for one ``Exchange``.
///
/// Created, read and closed only on the driver thread (see ``CurlDriver``); the callbacks run
/// there too, inside `curl_multi_perform`, and find this object through the `Unmanaged` pointer
/// given as their user data. The driver holds it until ``close()``, and owns the handle: it gives
/// a fresh or reset one, and keeps or frees it afterwards.
final class Transfer {
    let easy: UnsafeMutableRawPointer
    let request: Exchange.Request
    /// The request's host, lower-cased: what the driver's per-host limit counts.
    let host: String
    let continuation: CheckedContinuation<Exchange.Response, any Error>
    private let maxBodyBytes: Int
    private let privateNetworks: PrivateNetworkPolicy
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    private var body = Data()
    private var bodyTooLarge = false
    private var refusedAddress: IPAddress?

    /// - Parameter easy: a handle new from `curl_easy_init`, or one a closed transfer reset.
    init(
        easy: UnsafeMutableRawPointer, request: Exchange.Request, host: String, configuration: FetcherConfiguration,
        continuation: CheckedContinuation<Exchange.Response, any Error>
    ) {
        self.easy = easy
        self.request = request
        self.host = host
        self.continuation = continuation
        maxBodyBytes = configuration.maxBodyBytes
        privateNetworks = configuration.privateNetworks
        errorBuffer.initialize(to: 0)
        configure(configuration)
    }

    /// Sets every option; option calls on a fresh or reset handle fail only when out of memory,
    /// which the transfer then reports as its error.
    private func configure(_ configuration: FetcherConfiguration) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        ew_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        ew_easy_setopt_string(easy, CURLOPT_URL, request.url.absoluteString)
        // Signals are no way to time out a transfer in a multi-threaded process.
        ew_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        ew_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        ew_easy_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        // Redirects are followed by HTTPFetcher, one exchange per hop, so each hop's status is seen.
        ew_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        // "" asks for every encoding this libcurl can decode (gzip, deflate, br, zstd).
        ew_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, "")
        ew_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        ew_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        ew_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout))
        ew_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, Self.milliseconds(request.timeout)))
        ew_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, configuration.lowSpeedBytesPerSecond)
        ew_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, max(1, Self.milliseconds(configuration.lowSpeedTime) / 1000))
        // Refuses at once a body whose announced size is too large; the write callback caps the rest.
        ew_easy_setopt_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(configuration.maxBodyBytes))
        ew_easy_setopt_string(easy, CURLOPT_USERAGENT, configuration.userAgent)
        if let body = request.body {
            // COPYPOSTFIELDS copies the bytes now (the size must be set first) and makes this a POST.
            ew_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            _ = body.withUnsafeBytes { bytes in
                ew_easy_setopt_pointer(
                    easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            }
            // No "Expect: 100-continue" round trip: webhook bodies are small.
            headerList = curl_slist_append(headerList, "Expect:")
        }
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        if let headerList { ew_easy_setopt_pointer(easy, CURLOPT_HTTPHEADER, headerList) }
        ew_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, Transfer.write)
        ew_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        ew_easy_setopt_opensocket(easy, Transfer.openSocket)
        ew_easy_setopt_pointer(easy, CURLOPT_OPENSOCKETDATA, context)
    }

    /// The response, or why there is none, once libcurl reported `result` for this transfer.
    func result(of result: CURLcode) -> Result<Exchange.Response, any Error> {
        if bodyTooLarge || result == CURLE_FILESIZE_EXCEEDED {
            return .failure(Exchange.Failure.bodyTooLarge(limit: maxBodyBytes))
        }
        if let refusedAddress, result != CURLE_OK {
            return .failure(Exchange.Failure.privateAddress(refusedAddress))
        }
        guard result == CURLE_OK else {
            return .failure(
                Exchange.Failure.curl(
                    code: Int(result.rawValue),
                    message: Self.message(for: result, detail: String(cString: errorBuffer)),
                    timedOut: result == CURLE_OPERATION_TIMEDOUT))
        }
        var status = 0
        ew_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return .success(
            Exchange.Response(
                status: status,
                effectiveURL: effectiveURL(),
                redirectURL: string(CURLINFO_REDIRECT_URL),
                headers: responseHeaders(),
                body: body,
                dns: duration(CURLINFO_NAMELOOKUP_TIME_T),
                connect: duration(CURLINFO_CONNECT_TIME_T),
                tls: duration(CURLINFO_APPCONNECT_TIME_T),
                firstByte: duration(CURLINFO_STARTTRANSFER_TIME_T)
            ))
    }

    /// What went wrong, for a log line: libcurl's own detail when it wrote one, else its text for
    /// the code. libcurl (7.x) refuses a response header line over 100 kB with a bare "Out of
    /// memory" and no detail, which would send a reader after the daemon's memory rather than
    /// the server's response.
    private static func message(for result: CURLcode, detail: String) -> String {
        if !detail.isEmpty { return detail }
        if result == CURLE_OUT_OF_MEMORY {
            return "a response header line is longer than libcurl accepts (100 kB), or memory ran out"
        }
        return String(cString: curl_easy_strerror(result))
    }

    /// Resets the handle to libcurl's defaults, so that none of this transfer's options (its
    /// headers, its body, the pointers to this object) reaches the next one, and frees what the
    /// transfer allocated. The transfer must already be out of the multi handle; ``easy`` is then
    /// the driver's to reuse or free.
    func close() {
        curl_easy_reset(easy)
        curl_slist_free_all(headerList)
        headerList = nil
        errorBuffer.deallocate()
    }

    /// The URL libcurl fetched: the request's own unless libcurl normalized it (redirects are not
    /// followed here). Parsed only then: parsing it for every transfer was ~1 ms of the driver
    /// thread's work in a warm cycle of a thousand sources.
    private func effectiveURL() -> URL {
        guard let text = string(CURLINFO_EFFECTIVE_URL), text != request.url.absoluteString else { return request.url }
        return URL(string: text) ?? request.url
    }

    /// The response headers the fetcher reads, by lower-case name.
    private func responseHeaders() -> [String: String] {
        var headers = [String: String](minimumCapacity: Self.readHeaders.count)
        for (name, cName) in Self.readHeaders {
            var header: UnsafeMutablePointer<curl_header>?
            // -1: the last request of this transfer, which is the only one since redirects are not followed.
            let found = cName.withUnsafeBufferPointer {
                curl_easy_header(easy, $0.baseAddress, 0, ew_header_origin_header(), -1, &header) == CURLHE_OK
            }
            if found, let value = header?.pointee.value { headers[name] = String(cString: value) }
        }
        return headers
    }

    /// The names ``responseHeaders()`` looks up, with their C strings made once: converting them
    /// for every response, with the dictionary's growth, was ~40% of the lookups' cost on the
    /// driver thread.
    private static let readHeaders = [
        "etag", "last-modified", "content-type", "content-encoding", "cache-control", "retry-after",
    ]
    .map { (name: $0, cName: Array($0.utf8CString)) }

    private func string(_ info: CURLINFO) -> String? {
        var pointer: UnsafePointer<CChar>?
        guard ew_easy_getinfo_string(easy, info, &pointer) == CURLE_OK, let pointer else { return nil }
        return String(cString: pointer)
    }

    private func duration(_ info: CURLINFO) -> Duration {
        var microseconds: curl_off_t = 0
        ew_easy_getinfo_off(easy, info, &microseconds)
        return .microseconds(microseconds)
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// CURLOPT_WRITEFUNCTION: appends decoded body bytes; returning less than given aborts the transfer.
    private static let write: ew_data_callback = { data, size, count, context in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        guard transfer.body.count + length <= transfer.maxBodyBytes else {
            transfer.bodyTooLarge = true
            return 0
        }
        if let data { transfer.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: length) }
        return length
    }

    /// CURLOPT_OPENSOCKETFUNCTION: vets the address curl is about to connect to, after DNS and on
    /// every hop, and opens the socket only when the private-network policy allows that address.
    private static let openSocket: ew_opensocket_callback = { context, _, address in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        guard let address else { return ew_socket_bad() }
        var bytes = [UInt8](repeating: 0, count: 16)
        let family = ew_sockaddr_ip(address, &bytes)
        guard family == 4 || family == 6, let ip = IPAddress(bytes: family == 4 ? Array(bytes[0..<4]) : bytes) else {
            return ew_socket_bad()
        }
        guard transfer.privateNetworks.permits(ip) else {
            transfer.refusedAddress = ip
            return ew_socket_bad()
        }
        return socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
    }
}
