// swift-tools-version: 6.0
import PackageDescription

// Layers, each using only those below it (ARCHITECTURE.md):
//   executables  loader, processor, wqtop   (flags, phrasing of errors, exit codes, curses)
//   CommandLineOptions                      (the connection flags all three share; ArgumentParser glue)
//   Load, Drain, Monitor                    (what each tool does; Monitor draws no terminal and moves
//                                            dead letters back with Load's FailedItemMover)
//   AMQPClient, ProcessRunner               (the broker; child processes and signals)
//   Core                                    (work-queue logic and values, no I/O of its own)
//   CRabbitMQ, CNCurses                     (C modules, imported by one target each)
let v6: [SwiftSetting] = [.swiftLanguageMode(.v6)]
// Only CommandLineOptions and the three executables link ArgumentParser.
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "work-queue",
    products: [
        .executable(name: "loader", targets: ["loader"]),
        .executable(name: "processor", targets: ["processor"]),
        .executable(name: "wqtop", targets: ["wqtop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        // No pkgConfig: ncursesw.pc only adds -D_DEFAULT_SOURCE/-D_XOPEN_SOURCE, which SwiftPM
        // rejects with a warning; the header is in /usr/include (apt: libncurses-dev).
        .systemLibrary(name: "CNCurses"),
        .target(name: "Core", swiftSettings: v6),
        .target(name: "AMQPClient", dependencies: ["Core", "CRabbitMQ"], swiftSettings: v6),
        .target(name: "ProcessRunner", dependencies: ["Core"], swiftSettings: v6),
        .target(name: "Load", dependencies: ["Core", "AMQPClient"], swiftSettings: v6),
        .target(name: "Drain", dependencies: ["Core", "AMQPClient", "ProcessRunner"], swiftSettings: v6),
        .target(name: "Monitor", dependencies: ["Core", "AMQPClient", "ProcessRunner", "Load"], swiftSettings: v6),
        .target(name: "CommandLineOptions", dependencies: ["Core", "AMQPClient", argumentParser], swiftSettings: v6),
        .executableTarget(
            name: "loader", dependencies: ["Core", "Load", "CommandLineOptions", argumentParser], swiftSettings: v6),
        .executableTarget(
            name: "processor", dependencies: ["Core", "ProcessRunner", "Drain", "CommandLineOptions", argumentParser],
            swiftSettings: v6),
        .executableTarget(
            name: "wqtop", dependencies: ["Core", "Monitor", "CommandLineOptions", "CNCurses", argumentParser],
            swiftSettings: v6),
        .target(
            name: "TestSupport",
            dependencies: ["Core", "AMQPClient"],
            path: "Tests/TestSupport",
            swiftSettings: v6
        ),
        .testTarget(name: "CoreTests", dependencies: ["Core"], swiftSettings: v6),
        .testTarget(name: "AMQPClientTests", dependencies: ["Core", "AMQPClient", "CRabbitMQ"], swiftSettings: v6),
        .testTarget(name: "LoadTests", dependencies: ["Core", "Load"], swiftSettings: v6),
        .testTarget(name: "ProcessRunnerTests", dependencies: ["Core", "ProcessRunner"], swiftSettings: v6),
        .testTarget(name: "DrainTests", dependencies: ["Core", "Drain", "ProcessRunner"], swiftSettings: v6),
        .testTarget(name: "MonitorTests", dependencies: ["Core", "Monitor"], swiftSettings: v6),
        .testTarget(
            name: "CommandLineTests", dependencies: ["Core", "CommandLineOptions", "loader", "processor", "wqtop"],
            swiftSettings: v6),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Core", "AMQPClient", "TestSupport"],
            swiftSettings: v6
        ),
    ]
)
