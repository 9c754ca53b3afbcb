import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One audio input to process, and the name its outputs get.
public struct AudioInput: Equatable, Sendable {
    /// A file path, or `-` for standard input.
    public var path: String
    /// The output stem: the input's name without its extension, relative to
    /// the directory or manifest it came from (e.g. `fash/an251-fash-b`).
    public var name: String
    /// The transcript, when the input came from a manifest that has one.
    public var text: String?
    /// The key in a Kaldi archive: `name` with white space made `_` (Kaldi
    /// keys cannot hold it), unique among the inputs like `name`.
    public var archiveKey: String

    /// An input of the given path, output name and transcript; its archive key is derived from the name.
    public init(path: String, name: String, text: String? = nil) {
        self.path = path
        self.name = name
        self.text = text
        self.archiveKey = Self.kaldiKey(name)
    }

    /// `name` with every white-space character replaced by `_`.
    static func kaldiKey(_ name: String) -> String {
        String(name.map { $0.isWhitespace ? "_" : $0 })
    }
}

/// The inputs of a batch command, expanded and named.
public struct InputCollection: Sendable {
    /// The inputs, expanded, each with an output name and an archive key no other input shares.
    public var inputs: [AudioInput] = []
    /// Arguments that could not be expanded (a missing path, an empty
    /// directory, a bad manifest, a file name that is not UTF-8), with the
    /// reason.
    public var failures: [(input: String, message: String)] = []
    /// Renamings made so that no two inputs share an output name or archive key.
    public var notes: [String] = []

    /// Extensions searched for in directories: what libsndfile decodes.
    public static let audioExtensions: Set<String> = [
        "wav", "wave", "flac", "ogg", "oga", "opus", "aif", "aiff", "aifc", "sph", "nist",
        "au", "snd", "caf", "w64", "rf64", "voc", "mp3", "mat", "pvf", "xi", "htk", "sd2", "paf", "iff", "svx"
    ]

    /// Expands files, directories (recursively, sorted), manifests and `-`.
    public init(arguments: [String]) {
        let fm = FileManager.default
        for argument in arguments {
            if argument == "-" {
                inputs.append(AudioInput(path: "-", name: "stdin"))
                continue
            }
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                // Arguments reach Swift as UTF-8 strings; bytes that are not
                // UTF-8 have already become U+FFFD, so the file cannot be named.
                failures.append(
                    (
                        argument,
                        argument.unicodeScalars.contains("\u{FFFD}")
                            ? "no such file or directory; the name as received holds bytes that are not UTF-8 (shown as \u{FFFD}), which Hark cannot open — rename the file"
                            : "no such file or directory"
                    ))
                continue
            }
            if isDirectory.boolValue {
                let scan = Self.scan(argument)
                for name in scan.undecodable {
                    failures.append(
                        (
                            argument,
                            "skipped \"\(name)\": the file name is not UTF-8 (bytes shown as \\xNN), which Hark cannot open — rename it"
                        ))
                }
                if scan.files.isEmpty && scan.undecodable.isEmpty {
                    failures.append(
                        (
                            argument,
                            "directory contains no audio files (looked for .\(Self.audioExtensions.sorted().prefix(6).joined(separator: ", .")), …)"
                        ))
                }
                for relative in scan.files {
                    inputs.append(
                        AudioInput(
                            path: (argument as NSString).appendingPathComponent(relative),
                            name: Self.stem(relative)))
                }
            } else if Manifest.isManifest(argument) {
                do {
                    let entries = try Manifest.read(argument)
                    if entries.isEmpty { failures.append((argument, "the manifest has no entries")) }
                    for entry in entries {
                        inputs.append(
                            AudioInput(
                                path: entry.audioPath, name: Self.manifestName(entry, manifest: argument),
                                text: entry.text))
                    }
                } catch {
                    failures.append((argument, "\(error)"))
                }
            } else {
                inputs.append(AudioInput(path: argument, name: Self.stem((argument as NSString).lastPathComponent)))
            }
        }
        makeNamesUnique()
    }

    /// `dir/x.wav` → `dir/x`.
    static func stem(_ relative: String) -> String {
        (relative as NSString).deletingPathExtension
    }

    /// The output name of a manifest entry: its path as written, relative to
    /// the manifest's folder, without extension. Only the text is used — a
    /// symbolic link is not followed, so links to one target keep their own
    /// names. A path outside the folder (absolute, or through `..`) gives
    /// its file name alone, so no output can land outside the output folder.
    static func manifestName(_ entry: ManifestEntry, manifest: String) -> String {
        let folder = lexicallyNormalized(absolute((manifest as NSString).deletingLastPathComponent))
        let full = lexicallyNormalized(absolute(entry.audioPath))
        let relative =
            full.hasPrefix(folder == "/" ? "/" : folder + "/")
            ? String(full.dropFirst(folder == "/" ? 1 : folder.count + 1))
            : (full as NSString).lastPathComponent
        return stem(relative)
    }

    /// `path` made absolute against the current directory, without touching the file system.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// `/a/./b//c/../d` → `/a/b/d`: `.`, empty components and `..` resolved
    /// on the text alone (`..` at the root stays at the root).
    static func lexicallyNormalized(_ absolutePath: String) -> String {
        var parts: [Substring] = []
        for part in absolutePath.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Audio files below `directory`, as sorted relative paths (names that
    /// are not UTF-8 are left out; `scan` reports them).
    public static func audioFiles(under directory: String) -> [String] {
        scan(directory).files
    }

    /// Audio files below `directory` (sorted relative paths), and those whose
    /// path is not UTF-8, with each such byte shown as `\xNN`. Real
    /// directories are searched; a symbolic link counts when it leads to a
    /// file, and a link to a directory is not followed (so no cycles).
    public static func scan(_ directory: String) -> (files: [String], undecodable: [String]) {
        var files: [String] = []
        var undecodable: [String] = []
        var pending: [[UInt8]] = [[]]  // relative directory paths, as bytes
        let root = Array(directory.utf8)
        while let relative = pending.popLast() {
            let here = relative.isEmpty ? root : root + [0x2F] + relative
            guard let dir = opendir(here.cString) else { continue }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
                if name == [0x2E] || name == [0x2E, 0x2E] { continue }
                let itemRelative = relative.isEmpty ? name : relative + [0x2F] + name
                let full = root + [0x2F] + itemRelative
                var link = stat()
                guard lstat(full.cString, &link) == 0 else { continue }
                if (link.st_mode & S_IFMT) == S_IFDIR {
                    pending.append(itemRelative)
                    continue
                }
                guard let dot = name.lastIndex(of: 0x2E),
                    let ext = String(bytes: name[(dot + 1)...], encoding: .utf8),
                    audioExtensions.contains(ext.lowercased())
                else { continue }
                var target = stat()
                guard stat(full.cString, &target) == 0, (target.st_mode & S_IFMT) != S_IFDIR else { continue }
                if let path = String(validating: itemRelative, as: UTF8.self) {
                    files.append(path)
                } else {
                    undecodable.append(escaped(itemRelative))
                }
            }
        }
        return (files.sorted(), undecodable.sorted())
    }

    /// Bytes shown as UTF-8 where they are, and as `\xNN` where they are not.
    static func escaped(_ bytes: [UInt8]) -> String {
        var out = ""
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var position = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                out.unicodeScalars.append(Unicode.UTF8.decode(encoded))
                position += encoded.count
            case .error(let length):
                for b in bytes[position..<(position + length)] { out += String(format: "\\x%02X", b) }
                position += length
            case .emptyInput:
                return out
            }
        }
    }

    /// Inputs that would share an output name keep their extension
    /// (`x.wav` and `x.flac` → `x.wav.npy`, `x.flac.npy`); any that still
    /// clash get `-2`, `-3`, … in input order. Archive keys (names with white
    /// space made `_`) are made unique the same way, since `a b` and `a_b`
    /// would share one. Each renaming is noted. Linear in the inputs: each
    /// base name remembers the next suffix to try.
    mutating func makeNamesUnique() {
        var counts: [String: Int] = [:]
        for input in inputs { counts[input.name, default: 0] += 1 }
        var names = UniqueNames()
        var keys = UniqueNames()
        for i in inputs.indices {
            let original = inputs[i].name
            var name = original
            if counts[name, default: 0] > 1 {
                let ext = (inputs[i].path as NSString).pathExtension
                if !ext.isEmpty { name += "." + ext }
            }
            let unique = names.claim(name)
            if unique != original {
                notes.append("\(inputs[i].path): output named \"\(unique)\" because another input is also named \"\(original)\"")
                inputs[i].name = unique
            }
            let natural = AudioInput.kaldiKey(unique)
            let key = keys.claim(natural)
            if key != natural {
                notes.append("\(inputs[i].path): archive key \"\(key)\" because another input's key is also \"\(natural)\"")
            }
            inputs[i].archiveKey = key
        }
    }
}

private extension Array where Element == UInt8 {
    /// The bytes as a NUL-terminated C string.
    var cString: [CChar] { map { CChar(bitPattern: $0) } + [0] }
}
