/// Text laid out in a terminal's columns: a Chinese character or a full-width form takes two, a
/// combining mark none. The tables of `items list`, `sources list` and `webhooks list` align on
/// it, so that a row with a Chinese title does not push the columns after it to the right.
extension String {
    /// How many terminal columns the text takes.
    var terminalWidth: Int {
        reduce(0) { $0 + $1.terminalWidth }
    }

    /// The longest start of the text that fits in `columns` terminal columns.
    func prefix(terminalColumns columns: Int) -> Substring {
        var used = 0
        var end = startIndex
        for character in self {
            used += character.terminalWidth
            guard used <= columns else { break }
            end = index(after: end)
        }
        return self[..<end]
    }

    /// The text followed by spaces up to `columns` terminal columns (unchanged when it is wider).
    func padded(toTerminalColumns columns: Int) -> String {
        self + String(repeating: " ", count: max(0, columns - terminalWidth))
    }
}

extension Character {
    /// Two for East Asian wide and full-width characters (and emoji), zero for a lone combining
    /// mark or a control, one otherwise. The ranges are those of `wcwidth` (Markus Kuhn's, updated
    /// for the CJK extensions); a character's later scalars (combining marks, variation selectors)
    /// take no column of their own.
    var terminalWidth: Int {
        guard let first = unicodeScalars.first else { return 0 }
        if first.isWide { return 2 }
        switch first.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .control, .format: return 0
        default: return 1
        }
    }
}

extension Unicode.Scalar {
    fileprivate var isWide: Bool {
        switch value {
        case 0x1100...0x115F,  // Hangul Jamo initial consonants
            0x2E80...0x303E, 0x3041...0x33FF,  // CJK radicals, punctuation, kana, compatibility
            0x3400...0x4DBF, 0x4E00...0x9FFF,  // CJK unified ideographs and extension A
            0xA000...0xA4CF,  // Yi
            0xAC00...0xD7A3,  // Hangul syllables
            0xF900...0xFAFF,  // CJK compatibility ideographs
            0xFE10...0xFE19, 0xFE30...0xFE6F,  // vertical and compatibility forms
            0xFF00...0xFF60, 0xFFE0...0xFFE6,  // full-width forms
            0x1F300...0x1F64F, 0x1F900...0x1F9FF,  // emoji
            0x20000...0x2FFFD, 0x30000...0x3FFFD:  // CJK extensions B and later
            true
        default: false
        }
    }
}
