// swift-tools-version: 6.0
import PackageDescription

// Three tools (Sources/loader, processor, wqtop), their shared code (Sources/Shared/*) and two C
// modules (Sources/CRabbitMQ, Sources/CNCurses). Layers, each using only those below it
// (ARCHITECTURE.md):
//   executables  loader, processor, wqtop   (flags, phrasing of errors, exit codes, curses)
//   CommandLineOptions                      (the connection flags all three share; ArgumentParser glue)
//   Load, Drain, Monitor                    (what each tool does; siblings, none imports another)
//   QueueActions                            (what two tools do to the queues: moving dead letters
//                                            back, publishing load events)
//   AMQPClient, ProcessRunner, MetricsServer (the broker; child processes; wqtop --serve's HTTP side)
//   Platform                                (the operating system: clocks, sleeping, files, the
//                                            environment, the host name, the log writer, signals)
//   Core                                    (work-queue logic and values, no I/O)
//   CRabbitMQ, CNCurses                     (C modules, imported by one target each)
let v6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// A library target under Sources/Shared.
func shared(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .target(name: name, dependencies: dependencies, path: "Sources/Shared/\(name)", swiftSettings: v6)
}
// Only CommandLineOptions and the three executables link ArgumentParser.
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
// Only MetricsServer links SwiftNIO.
let nio: [Target.Dependency] = ["NIOCore", "NIOPosix", "NIOHTTP1"].map { .product(name: $0, package: "swift-nio") }

let package = Package(
    name: "work-queue",
    products: [
        .executable(name: "loader", targets: ["loader"]),
        .executable(name: "processor", targets: ["processor"]),
        .executable(name: "wqtop", targets: ["wqtop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // wqtop --serve's HTTP side (NIOHTTP1): adds about 50 s to a clean debug build, 90 s to a release one.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
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
        shared("Core", []),
        shared("Platform", ["Core"]),
        shared("AMQPClient", ["Core", "Platform", "CRabbitMQ"]),
        shared("ProcessRunner", ["Core", "Platform"]),
        shared("QueueActions", ["Core", "Platform", "AMQPClient"]),
        shared("Load", ["Core", "Platform", "AMQPClient", "QueueActions"]),
        shared("Drain", ["Core", "Platform", "AMQPClient", "ProcessRunner"]),
        shared("Monitor", ["Core", "Platform", "AMQPClient", "QueueActions"]),
        shared("MetricsServer", ["Core", "Platform"] + nio),
        shared("CommandLineOptions", ["Core", "Platform", "AMQPClient", argumentParser]),
        .executableTarget(
            name: "loader", dependencies: ["Core", "Platform", "QueueActions", "Load", "CommandLineOptions", argumentParser], swiftSettings: v6),
        .executableTarget(
            name: "processor", dependencies: ["Core", "Platform", "ProcessRunner", "Drain", "CommandLineOptions", argumentParser],
            swiftSettings: v6),
        .executableTarget(
            name: "wqtop", dependencies: ["Core", "Platform", "Monitor", "MetricsServer", "CommandLineOptions", "CNCurses", argumentParser],
            swiftSettings: v6),
        .target(
            name: "TestSupport",
            dependencies: ["Core", "Platform", "AMQPClient"],
            path: "Tests/TestSupport",
            swiftSettings: v6
        ),
        .testTarget(name: "CoreTests", dependencies: ["Core"], swiftSettings: v6),
        .testTarget(name: "AMQPClientTests", dependencies: ["Core", "AMQPClient", "CRabbitMQ"], swiftSettings: v6),
        .testTarget(name: "LoadTests", dependencies: ["Core", "Platform", "Load"], swiftSettings: v6),
        .testTarget(name: "ProcessRunnerTests", dependencies: ["Core", "Platform", "ProcessRunner"], swiftSettings: v6),
        .testTarget(name: "DrainTests", dependencies: ["Core", "Platform", "Drain", "ProcessRunner"], swiftSettings: v6),
        .testTarget(name: "MonitorTests", dependencies: ["Core", "Platform", "Monitor"], swiftSettings: v6),
        .testTarget(name: "MetricsServerTests", dependencies: ["Core", "Platform", "MetricsServer"], swiftSettings: v6),
        .testTarget(
            name: "CommandLineTests", dependencies: ["Core", "Platform", "CommandLineOptions", "loader", "processor", "wqtop"],
            swiftSettings: v6),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Core", "Platform", "AMQPClient", "TestSupport"],
            swiftSettings: v6
        ),
    ]
)
