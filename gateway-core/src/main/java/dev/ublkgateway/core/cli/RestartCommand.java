package dev.ublkgateway.core.cli;

import picocli.CommandLine.Command;

/** `restart NAME`: another name for `upgrade NAME`, for those who think of it as restarting the gateway. */
@Command(name = "restart", description = "The same as `upgrade`: hand a running device to a new gateway process "
        + "without an I/O error (recovery: true devices; the target and the size stay).")
final class RestartCommand extends UpgradeCommand {
}
