package dev.ublkgateway.core.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.*;

class ReloadTest {
    @TempDir
    Path dir;

    private static Map<String, Map<String, String>> identities() {
        Map<String, Map<String, String>> m = new LinkedHashMap<>();
        m.put("a", Map.of("size", "4096"));
        m.put("b", new LinkedHashMap<>(Map.of("target", "file /x y #ab", "size", "8192")));
        return m;
    }

    @Test
    void aRequestCarriesTheReloaderAndEveryDevicesIdentityAndIsTakenOnce() throws Exception {
        assertEquals(Optional.empty(), Reload.take(dir, 10));
        Reload.ask(dir, 10, 77, identities());
        assertTrue(Reload.pending(dir, 10));
        assertEquals(Optional.empty(), Reload.take(dir, 11), "a request is for one gateway");
        Reload.Request r = Reload.take(dir, 10).orElseThrow();
        assertEquals(77, r.reloader());
        assertEquals(identities(), r.identities());
        assertFalse(Reload.pending(dir, 10));
        assertEquals(Optional.empty(), Reload.take(dir, 10));
        assertFalse(Reload.withdraw(dir, 10), "a taken request cannot be withdrawn");
    }

    @Test
    void answersAndTheSuccessorsNameAreReadOnce() throws Exception {
        assertEquals(Optional.empty(), Reload.outcome(dir, 10));
        Reload.answer(dir, 10, Handover.Kind.REFUSED, "the size of a would change\n(1 -> 2)");
        assertEquals(new Handover.Outcome(Handover.Kind.REFUSED, "the size of a would change (1 -> 2)"),
                Reload.outcome(dir, 10).orElseThrow());
        assertEquals(Optional.empty(), Reload.outcome(dir, 10));
        assertEquals(OptionalLong.empty(), Reload.successorOf(dir, 10));
        Reload.nameSuccessor(dir, 10, 4711);
        assertEquals(OptionalLong.of(4711), Reload.successorOf(dir, 10));
        assertEquals(OptionalLong.empty(), Reload.successorOf(dir, 10));
        Reload.nameSuccessor(dir, 10, 0);
        assertEquals(OptionalLong.of(0), Reload.successorOf(dir, 10), "none: take the devices back");
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing is left in the run directory");
        }
    }

    @Test
    void theSuccessorSaysItIsPreparedOnce() throws Exception {
        assertEquals(OptionalLong.empty(), Reload.preparedSuccessor(dir, 10));
        Reload.markPrepared(dir, 10, 4711);
        assertEquals(OptionalLong.empty(), Reload.preparedSuccessor(dir, 11), "a mark is for one gateway's successor");
        assertEquals(OptionalLong.of(4711), Reload.preparedSuccessor(dir, 10));
        assertEquals(OptionalLong.empty(), Reload.preparedSuccessor(dir, 10));
    }

    @Test
    void aNewRequestDropsStaleAnswersAndAnUntakenOneIsWithdrawn() throws Exception {
        Reload.answer(dir, 10, Handover.Kind.OK, "old");
        Reload.nameSuccessor(dir, 10, 5);
        Reload.ask(dir, 10, 77, identities());
        assertEquals(Optional.empty(), Reload.outcome(dir, 10));
        assertEquals(OptionalLong.empty(), Reload.successorOf(dir, 10));
        assertTrue(Reload.withdraw(dir, 10));
        assertEquals(Optional.empty(), Reload.take(dir, 10));
    }
}
