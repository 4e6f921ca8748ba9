import Foundation

/// One topic of DESIGN.md §6: weighted terms in English and Chinese, groups of which one term
/// each must match, exclusions for the near misses that fool keyword filters, and a threshold.
public struct Topic: Sendable, Equatable {
    /// A term and what it weighs as evidence (0…1).
    public struct Term: Sendable, Equatable {
        public var text: String
        public var weight: Double

        public init(_ text: String, weight: Double) {
            self.text = text
            self.weight = weight
        }
    }

    /// Terms of which at least one must match for the topic to be relevant.
    public struct Group: Sendable, Equatable {
        public var name: String
        public var terms: [String]
        /// Whether an export-control identifier (an ECCN, 15 CFR 730–774, a MOFCOM announcement) satisfies the group.
        public var identifiersCount: Bool

        public init(name: String, terms: [String], identifiersCount: Bool = false) {
            self.name = name
            self.terms = terms
            self.identifiersCount = identifiersCount
        }
    }

    public var id: String
    public var name: String
    public var threshold: Double
    public var terms: [Term]
    public var groups: [Group]
    /// Phrases whose matches hide the topic's matches inside them (`potato chips`) and weaken the topic.
    public var exclusions: [String]
    /// What a cited identifier of each kind weighs as evidence for this topic (`eccn`: 0.4).
    public var identifierWeights: [RegulatoryIdentifier.Kind: Double]

    public init(
        id: String, name: String, threshold: Double = 0.5, terms: [Term], groups: [Group] = [],
        exclusions: [String] = [],
        identifierWeights: [RegulatoryIdentifier.Kind: Double] = [:]
    ) {
        self.id = id
        self.name = name
        self.threshold = threshold
        self.terms = terms
        self.groups = groups
        self.exclusions = exclusions
        self.identifierWeights = identifierWeights
    }
}

/// What the classifier says of one item.
public struct Classification: Sendable, Equatable {
    /// A topic's verdict.
    public struct TopicScore: Sendable, Equatable {
        public var id: String
        /// 0…1.
        public var score: Double
        /// The terms that matched, as the topics file writes them: the explanation.
        public var matched: [String]
        /// Whether the score reached the topic's threshold.
        public var passes: Bool
    }

    /// Whether any topic passed its threshold.
    public var relevant: Bool
    /// The topics with any match, best first.
    public var topics: [TopicScore]
    /// The regulatory identifiers the item cites.
    public var identifiers: [RegulatoryIdentifier]
    /// The text and the matches, when asked for (`exportwatch classify --explain`); nil otherwise,
    /// so that an item in flight in the daemon does not carry a second copy of its text.
    public var explanation: Explanation?

    /// What the terms were matched in, and where.
    public struct Explanation: Sendable {
        /// The normalized text.
        public var normalizedText: String
        /// Where each counted term matched in ``normalizedText`` (UTF-8 offsets).
        public var spans: [(start: Int, end: Int, term: String)]
    }

    public static func == (lhs: Classification, rhs: Classification) -> Bool {
        lhs.relevant == rhs.relevant && lhs.topics == rhs.topics && lhs.identifiers == rhs.identifiers
    }
}

extension Topic {
    /// The most the topic's terms can score together (every one matched, none excluded), as the
    /// classifier combines and rounds scores; cited identifiers can add to it.
    public var bestTermScore: Double { Classifier.rounded(Classifier.combined(terms.lazy.map(\.weight))) }
}

/// Classifies items against topics with one multi-pattern matcher for all of them.
///
/// Scoring, per topic: the weights of its distinct matched terms combine as independent evidence,
/// `1 − Π(1 − w)`, a cited identifier counting as a term where the topic gives its kind a weight;
/// an export-control identifier satisfies the groups that accept one; each matched
/// exclusion halves the score;
/// a required group with no match caps the score at a fifth of the threshold. The topic passes when
/// the score reaches its threshold.
public struct Classifier: Sendable {
    /// Weights combined as independent evidence: `1 − Π(1 − w)`, each weight held to 0…1.
    static func combined(_ weights: some Sequence<Double>) -> Double {
        1 - weights.reduce(1) { $0 * (1 - min(max($1, 0), 1)) }
    }

    /// A score as reported: to three decimals.
    static func rounded(_ score: Double) -> Double { (score * 1000).rounded() / 1000 }

    public let topics: [Topic]
    private let matcher: PatternMatcher
    /// For each pattern: the (topic, role) pairs it plays.
    private let roles: [[Role]]
    private let patternTexts: [String]

    private enum Role: Sendable {
        case term(topic: Int, weight: Double, label: String)
        case group(topic: Int, group: Int)
        case exclusion(topic: Int)
        /// A marker that makes an identifier kind worth looking for (see `IdentifierExtractor.markers`).
        case identifierMarker(String)
    }

    /// Builds the matcher for `topics`.
    public init(topics: [Topic]) {
        self.topics = topics
        var index: [String: Int] = [:]
        var patterns: [String] = []
        var roles: [[Role]] = []
        func add(_ text: String, _ role: Role) {
            let normalized = TextNormalizer.normalize(text)
            guard !normalized.isEmpty else { return }
            if let existing = index[normalized] {
                roles[existing].append(role)
            } else {
                index[normalized] = patterns.count
                patterns.append(normalized)
                roles.append([role])
            }
        }
        for (topicIndex, topic) in topics.enumerated() {
            for term in topic.terms { add(term.text, .term(topic: topicIndex, weight: term.weight, label: term.text)) }
            for (groupIndex, group) in topic.groups.enumerated() {
                for term in group.terms { add(term, .group(topic: topicIndex, group: groupIndex)) }
            }
            for exclusion in topic.exclusions { add(exclusion, .exclusion(topic: topicIndex)) }
        }
        // The identifier markers ride along in the same automaton, so one pass serves both.
        for marker in IdentifierExtractor.markers { add(marker, .identifierMarker(marker)) }
        matcher = PatternMatcher(patterns: patterns)
        self.roles = roles
        patternTexts = patterns
    }

    /// Classifies an item by its title and summary (HTML allowed); with `explaining`, the result
    /// keeps the normalized text and where the terms matched in it.
    public func classify(title: String, summary: String, explaining: Bool = false) -> Classification {
        var text = TextNormalizer.normalize(parts: [title, summary])
        let (matches, identifiers) = text.withUTF8 { bytes in
            let matches = matcher.matches(in: bytes)
            var markers: Set<String> = []
            for match in matches {
                for case .identifierMarker(let marker) in roles[match.pattern] { markers.insert(marker) }
            }
            return (matches, IdentifierExtractor.identifiers(in: bytes, markers: markers))
        }
        guard !matches.isEmpty || !identifiers.isEmpty else {
            return Classification(
                relevant: false, topics: [], identifiers: [],
                explanation: explaining ? .init(normalizedText: text, spans: []) : nil)
        }
        let evidence = identifiers.contains(where: \.isExportControlEvidence)

        // Flat lists of hits: an item matches a handful of patterns, so small arrays beat
        // per-topic dictionaries and sets.
        var exclusions: [(topic: Int, range: Range<Int>)] = []
        for match in matches {
            for case .exclusion(let topic) in roles[match.pattern] {
                exclusions.append((topic, match.start..<match.end))
            }
        }
        func excluded(_ topic: Int, _ match: PatternMatcher.Match) -> Bool {
            exclusions.contains { $0.topic == topic && $0.range.overlaps(match.start..<match.end) }
        }
        var terms: [(topic: Int, label: String, weight: Double)] = []
        var groups: [(topic: Int, group: Int)] = []
        var spans: [(start: Int, end: Int, term: String)] = []
        for match in matches {
            for role in roles[match.pattern] {
                switch role {
                case .term(let topic, let weight, let label):
                    guard !excluded(topic, match) else { continue }
                    terms.append((topic, label, weight))
                    if explaining { spans.append((match.start, match.end, label)) }
                case .group(let topic, let group):
                    guard !excluded(topic, match) else { continue }
                    groups.append((topic, group))
                case .exclusion, .identifierMarker:
                    break
                }
            }
        }
        var scores: [Classification.TopicScore] = []
        for (index, topic) in topics.enumerated() {
            var matched: [(label: String, weight: Double)] = []
            func add(_ label: String, _ weight: Double) {
                if let existing = matched.firstIndex(where: { $0.label == label }) {
                    matched[existing].weight = max(matched[existing].weight, weight)
                } else {
                    matched.append((label, weight))
                }
            }
            for term in terms where term.topic == index { add(term.label, term.weight) }
            for identifier in identifiers {
                if let weight = topic.identifierWeights[identifier.kind], identifier.isExportControlEvidence {
                    add(identifier.value, weight)
                }
            }
            guard !matched.isEmpty else { continue }
            var score = Self.combined(matched.lazy.map(\.weight))
            score *= pow(0.5, Double(exclusions.filter { $0.topic == index }.count))
            let missingGroup = topic.groups.indices.contains { group in
                !groups.contains { $0.topic == index && $0.group == group }
                    && !(evidence && topic.groups[group].identifiersCount)
            }
            if missingGroup { score = min(score, topic.threshold / 5) }
            score = Self.rounded(score)
            scores.append(
                .init(
                    id: topic.id, score: score, matched: matched.map(\.label).sorted(), passes: score >= topic.threshold
                ))
        }
        scores.sort { ($0.score, $1.id) > ($1.score, $0.id) }
        return Classification(
            relevant: scores.contains(where: \.passes), topics: scores, identifiers: identifiers,
            explanation: explaining ? .init(normalizedText: text, spans: spans) : nil)
    }
}
