/// The version all three tools print for `--version`, written once.
package enum ToolVersion {
    package static let current = "0.4.0"
}
