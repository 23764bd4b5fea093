package dev.ublkgateway.core.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "completion", description = "Print a bash completion script for ublk-gateway: "
        + "`source <(ublk-gateway completion bash)`, or save it in /etc/bash_completion.d/ublk-gateway.")
final class CompletionCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Parameters(paramLabel = "SHELL", description = "bash (zsh also reads it after `autoload bashcompinit; bashcompinit`)",
            completionCandidates = Shells.class)
    Shell shell;

    enum Shell { BASH }

    static final class Shells extends java.util.ArrayList<String> {
        Shells() {
            super(java.util.List.of("bash"));
        }
    }

    @Override
    public void run() {
        System.out.print(AutoComplete.bash("ublk-gateway", spec.root().commandLine()));
    }
}
