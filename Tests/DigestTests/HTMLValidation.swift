import CLibXML2
import Foundation

/// libxml2's HTML parser as a validator: the errors it reports for a page.
enum HTMLValidation {
    final class Collector {
        var messages: [String] = []
    }

    /// Every error (not warning) libxml2's HTML parser reports, with its line.
    static func errors(in data: Data) throws -> [String] {
        xmlInitParser()
        let collector = Collector()
        xmlSetStructuredErrorFunc(Unmanaged.passUnretained(collector).toOpaque()) { context, error in
            guard let context, let error, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
            let message = error.pointee.message.map { String(cString: $0) } ?? "error"
            collector.messages.append("line \(error.pointee.line): \(message)")
        }
        defer { xmlSetStructuredErrorFunc(nil, nil) }
        let document = data.withUnsafeBytes { bytes in
            htmlReadMemory(
                bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil, "utf-8",
                Int32(HTML_PARSE_NONET.rawValue))
        }
        if document == nil { collector.messages.append("no document") }
        xmlFreeDoc(document)
        return collector.messages
    }
}
