package dev.ublkgateway.core.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class HandoverTest {
    @TempDir
    Path dir;

    @Test
    void aRequestIsTakenOnceAndAnsweredOnce() throws Exception {
        assertEquals(Optional.empty(), Handover.take(dir, "v"));
        Handover.ask(dir, "v", Map.of("size", "4096"));
        assertEquals(Optional.empty(), Handover.take(dir, "w"));
        assertEquals(Map.of("size", "4096"), Handover.take(dir, "v").orElseThrow());
        assertEquals(Optional.empty(), Handover.take(dir, "v"));
        assertFalse(Handover.withdraw(dir, "v"), "a taken request cannot be withdrawn");
        assertEquals(Optional.empty(), Handover.outcome(dir, "v"));
        Handover.answer(dir, "v", Handover.Kind.OK, "quiesced");
        assertEquals(new Handover.Outcome(Handover.Kind.OK, "quiesced"), Handover.outcome(dir, "v").orElseThrow());
        assertEquals(Optional.empty(), Handover.outcome(dir, "v"), "an answer is read once");
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing is left in the run directory");
        }
    }

    @Test
    void anUntakenRequestIsWithdrawnAndAStaleAnswerDropped() throws Exception {
        Handover.answer(dir, "v", Handover.Kind.FAILED, "old");
        Handover.ask(dir, "v", Map.of("target", "file /x #ab"));
        assertEquals(Optional.empty(), Handover.outcome(dir, "v"), "the stale answer went with the new request");
        assertTrue(Handover.withdraw(dir, "v"));
        assertEquals(Optional.empty(), Handover.take(dir, "v"));
    }

    @Test
    void aRequestIsRefusedForAChangeOrADeviceThatCannotLetGo() {
        Map<String, String> running = Map.of("size", "4096", "target", "file /x #ab");
        assertEquals(Optional.empty(), Handover.refusal("v", running, Map.of("size", "4096", "target", "file /x #ab"), true));
        assertEquals("the size of v would change (4096 -> 8192); a live upgrade keeps it: undo that change, or re-create "
                + "the device (down, up)", Handover.refusal("v", running, Map.of("size", "8192", "target", "file /x #ab"),
                true).orElseThrow());
        assertTrue(Handover.refusal("v", running, running, false).orElseThrow()
                .startsWith("device v cannot be handed over live: it lacks UBLK_F_QUIESCE"));
    }

    @Test
    void refusalsAndFailuresKeepTheirMessage() throws Exception {
        Handover.answer(dir, "v", Handover.Kind.REFUSED, "the size of v would change\n(1 -> 2)");
        assertEquals(new Handover.Outcome(Handover.Kind.REFUSED, "the size of v would change (1 -> 2)"),
                Handover.outcome(dir, "v").orElseThrow());
        Files.writeString(dir.resolve("v.upgrade.result"), "garbage\n");
        assertEquals(Handover.Kind.FAILED, Handover.outcome(dir, "v").orElseThrow().kind());
    }
}
