// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "work-queue",
    products: [
        .executable(name: "loader", targets: ["loader"]),
        .executable(name: "processor", targets: ["processor"]),
        .executable(name: "wqtop", targets: ["wqtop"]),
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
        .target(
            name: "Shared",
            dependencies: ["CRabbitMQ"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "loader",
            dependencies: ["Shared"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "processor",
            dependencies: ["Shared"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "wqtop",
            dependencies: ["Shared", "CNCurses"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Shared"],
            path: "Tests/TestSupport",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "SharedTests",
            dependencies: ["Shared"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Shared", "TestSupport"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
