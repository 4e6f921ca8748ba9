/// The version of exportwatch, as `--version` and the default `User-Agent` give it.
public enum ExportwatchVersion {
    /// The release version.
    public static let current = "0.1.0"
}
