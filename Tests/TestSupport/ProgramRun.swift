public import Foundation
import Synchronization

/// A program run to its end: its exit status and what it printed.
public struct ProgramRun: Sendable {
    /// The exit status (or the signal's number, when a signal ended it).
    public var status: Int32
    /// Standard output, as UTF-8 text.
    public var output: String
    /// Standard error, as UTF-8 text.
    public var errors: String

    /// Runs `executable` with `arguments` to its end, `input` on its standard input.
    ///
    /// The wait is on threads of its own: a test task that blocked would hold one of the few
    /// threads every test's tasks run on, and stall other tests' timing.
    ///
    /// ```swift
    /// let run = try await ProgramRun(URL(filePath: "/usr/bin/env"), ["python3", "--version"])
    /// #expect(run.status == 0)
    /// ```
    public init(
        _ executable: URL, _ arguments: [String], input: Data? = nil, directory: URL? = nil,
        environment: [String: String]? = nil
    ) async throws {
        self = try await withCheckedThrowingContinuation { finished in
            Thread.detachNewThread {
                finished.resume(
                    with: Result {
                        try Self.runBlocking(executable, arguments, input, directory, environment)
                    })
            }
        }
    }

    private init(status: Int32, output: String, errors: String) {
        self.status = status
        self.output = output
        self.errors = errors
    }

    private static func runBlocking(
        _ executable: URL, _ arguments: [String], _ input: Data?, _ directory: URL?, _ environment: [String: String]?
    ) throws -> ProgramRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let inputPipe = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Each stream is read on a thread of its own, so that neither fills its pipe while the
        // other is read, and the input is written while the program prints.
        let errorText = Mutex(Data())
        let done = DispatchGroup()
        DispatchQueue.global().async(group: done) {
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            errorText.withLock { $0 = data }
        }
        if let input {
            DispatchQueue.global().async(group: done) {
                try? inputPipe.fileHandleForWriting.write(contentsOf: input)
                try? inputPipe.fileHandleForWriting.close()
            }
        }
        let out = output.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return ProgramRun(
            status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
            errors: String(decoding: errorText.withLock { $0 }, as: UTF8.self))
    }
}
