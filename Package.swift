// swift-tools-version:6.1

import PackageDescription

let package = Package(
    name: "exportwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "exportwatch", targets: ["exportwatch"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // C libraries, each wrapped once. Nothing from them appears in another module's API.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // glibc's malloc tuning (<malloc.h>), for the daemon's memory bound.
        .systemLibrary(name: "CMalloc"),

        .target(name: "Fetching", dependencies: ["CCurl", "COpenSSL"]),
        .target(name: "Feeds", dependencies: ["CLibXML2"]),
        .target(name: "Classification"),
        .target(name: "TOML"),
        .target(name: "Dedup", dependencies: ["Classification"]),
        .target(
            name: "Store",
            dependencies: ["Classification", "Dedup", "Fetching", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "Delivery",
            dependencies: [
                "COpenSSL", "Fetching", "Store", .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        .target(name: "Digest", dependencies: ["Store"]),
        .target(
            name: "Daemon",
            dependencies: [
                "Classification", "Dedup", "Delivery", "Digest", "Fetching", "Feeds", "Store", "TOML",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The demo's loopback server; the [metrics] endpoint's sockets.
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "exportwatch",
            dependencies: [
                "CMalloc", "Classification", "Daemon", "Digest", "Store",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Real loopback servers for the tests of every module that talks HTTP.
        .target(name: "TestSupport", path: "Tests/TestSupport", resources: [.copy("scripted_http_server.py")]),
        // Benchmarks/fetch.sh: HTTPFetcher beside curl over a local nginx.
        .executableTarget(name: "fetch-benchmark", dependencies: ["Fetching"], path: "Benchmarks/FetchBenchmark"),
        // Benchmarks/classify.sh: the classifier beside grep -F -i -f over the same item text.
        .executableTarget(
            name: "classify-benchmark", dependencies: ["Classification", "Daemon"], path: "Benchmarks/ClassifyBenchmark"
        ),
        // Benchmarks/parse.sh: FeedParser beside a raw libxml2 SAX pass over the same corpus.
        // Benchmarks/dedup.sh: story grouping precision and recall, and lookup time against a large store.
        .executableTarget(
            name: "dedup-benchmark", dependencies: ["Classification", "Dedup", "Fetching", "Store"],
            path: "Benchmarks/DedupBenchmark"),
        .executableTarget(
            name: "parse-benchmark", dependencies: ["Feeds", "CLibXML2"], path: "Benchmarks/ParseBenchmark"),

        .testTarget(name: "FetchingTests", dependencies: ["Fetching", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FeedsTests", dependencies: ["CLibXML2", "Feeds"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ClassificationTests", dependencies: ["Classification", "TestSupport"]),
        .testTarget(name: "TOMLTests", dependencies: ["TOML", "TestSupport"]),
        .testTarget(name: "DedupTests", dependencies: ["Classification", "Dedup", "TestSupport"]),
        .testTarget(
            name: "DeliveryTests",
            dependencies: [
                "Delivery", "Fetching", "Store", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DigestTests",
            dependencies: ["CLibXML2", "Classification", "Dedup", "Digest", "Feeds", "Fetching", "Store", "TestSupport"]),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Classification", "Dedup", "Fetching", "Store", .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Classification", "Daemon", "Dedup", "Delivery", "Feeds", "Fetching", "Store", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")]
        ),
        // The built binary, run as a process against loopback servers.
        .testTarget(name: "EndToEndTests", dependencies: ["exportwatch", "TestSupport"]),
    ]
)

for target in package.targets where [.executable, .test, .regular].contains(target.type) {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
