package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.frontend.ublk.DevInfo;
import dev.ublkgateway.core.frontend.ublk.UblkControl;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

@Command(name = "udev-owner", description = "Give the nodes of a non-root user's ublk device (/dev/ublkcN, "
        + "/dev/ublkbN) to the user who created it, as the kernel records it. The udev rule in udev/ runs this as "
        + "root for each new node; the nodes of root's devices stay as they are.")
final class UdevOwnerCommand implements Callable<Integer> {
    private static final Pattern NODE = Pattern.compile("(?:/dev/)?ublk([cb])(\\d{1,7})");

    @Parameters(paramLabel = "NODE", description = "the node's kernel name, ublkcN or ublkbN (udev's %%k), or its /dev path")
    String node;

    @Override
    public Integer call() throws Exception {
        Matcher m = NODE.matcher(node);
        if (!m.matches()) {
            throw new UblkException("`udev-owner " + node + "`: NODE must be a ublk node's name, ublkcN or ublkbN "
                    + "(e.g. udev's %k)");
        }
        Common.requireRoot("udev-owner");
        boolean charDevice = m.group(1).equals("c");
        int id = Integer.parseInt(m.group(2));
        Path path = Path.of("/dev", "ublk" + m.group(1) + id);
        DevInfo info;
        try (UblkControl c = UblkControl.open()) {
            info = c.devInfo(id);
        }
        if (!info.unprivileged()) {
            System.out.println(path + ": a device of root, left as it is");
            return 0;
        }
        // owner first, then the mode: the node is never open to anyone but root and its owner
        Files.setAttribute(path, "unix:uid", info.ownerUid());
        Files.setAttribute(path, "unix:gid", info.ownerGid());
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(charDevice ? "rw-------" : "rw-rw----"));
        System.out.println(path + ": given to uid " + info.ownerUid() + " gid " + info.ownerGid());
        return 0;
    }
}
