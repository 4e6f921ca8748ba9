import CLibXML2
import Synchronization

/// How many nodes (documents and DTDs included) libxml2 made and did not free on the calling
/// thread while `body` ran, counted through libxml2's node registration callbacks. Those are
/// per thread, so parses on other threads go uncounted; one test at a time may count.
enum LibXML2Nodes {
    private static let alive = Atomic<Int>(0)

    static func leftAlive(after body: () throws -> Void) rethrows -> Int {
        xmlInitParser()
        let before = alive.load(ordering: .relaxed)
        xmlRegisterNodeDefault { _ in LibXML2Nodes.alive.add(1, ordering: .relaxed) }
        xmlDeregisterNodeDefault { _ in LibXML2Nodes.alive.subtract(1, ordering: .relaxed) }
        defer {
            xmlRegisterNodeDefault(nil)
            xmlDeregisterNodeDefault(nil)
        }
        try body()
        return alive.load(ordering: .relaxed) - before
    }
}
