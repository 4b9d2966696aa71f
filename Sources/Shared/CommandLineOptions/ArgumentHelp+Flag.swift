import ArgumentParser

extension ArgumentHelp {
    /// Help for one flag that also names its environment variable and its default, so that the
    /// generated `--help` says the whole precedence (flag, then environment, then default).
    package static func flag(
        _ abstract: String, environment: String? = nil, default value: String? = nil, valueName: String? = nil
    ) -> ArgumentHelp {
        let sources = [environment.map { "env: \($0)" }, value.map { "default: \($0)" }].compactMap { $0 }
        let text = sources.isEmpty ? abstract : "\(abstract) (\(sources.joined(separator: "; ")))"
        return ArgumentHelp(text, valueName: valueName)
    }
}
