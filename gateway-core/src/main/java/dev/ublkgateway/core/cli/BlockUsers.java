package dev.ublkgateway.core.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** Who keeps a block device open, in words for `down`: where it (or a partition) is mounted, or what is stacked on it. */
final class BlockUsers {
    private BlockUsers() {}

    /** "mounted at /mnt", "in use by dm-0", or "open by another process" for {@code /dev/ublkbN}. */
    static String describe(String blockDevice, Path proc, Path sys) {
        String disk = Path.of(blockDevice).getFileName().toString();
        Path dir = sys.resolve("block").resolve(disk);
        Set<String> numbers = new HashSet<>();
        List<Path> parts = new ArrayList<>(List.of(dir));
        try (Stream<Path> children = Files.list(dir)) {
            children.filter(p -> p.getFileName().toString().startsWith(disk + "p")).forEach(parts::add);
        } catch (IOException ignored) {
            // no partitions to look at
        }
        for (Path p : parts) {
            try {
                numbers.add(Files.readString(p.resolve("dev")).strip());
            } catch (IOException ignored) {
                // gone meanwhile
            }
        }
        List<String> mounts = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(proc.resolve("self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4 && numbers.contains(f[2])) mounts.add(unescape(f[4]));
            }
        } catch (IOException ignored) {
            // no mount table: say less
        }
        if (!mounts.isEmpty()) return "mounted at " + String.join(", ", mounts);
        List<String> holders = new ArrayList<>();
        for (Path p : parts) {
            try (Stream<Path> h = Files.list(p.resolve("holders"))) {
                h.forEach(x -> holders.add(x.getFileName().toString()));
            } catch (IOException ignored) {
                // none
            }
        }
        if (!holders.isEmpty()) return "in use by " + String.join(", ", holders);
        return "open by another process (see `fuser -vm " + blockDevice + "`)";
    }

    /** mountinfo escapes space, tab, newline and backslash as octal. */
    static String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
