package dev.ublkgateway.api;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class ApiVersionTest {
    @Test
    void theVersionComesFromTheBuild() throws Exception {
        // the root pom is the one place the version is written; the filtered resource carries it here
        String pom = Files.readString(Path.of("..", "pom.xml"));
        Matcher m = Pattern.compile("<plugin\\.api\\.version>([^<]+)</plugin\\.api\\.version>").matcher(pom);
        assertTrue(m.find(), "the root pom declares plugin.api.version");
        assertEquals(m.group(1), ApiVersion.CURRENT);
        // the plugin-api artifact a plugin author depends on carries the same version
        assertTrue(Files.readString(Path.of("pom.xml")).contains("<version>${plugin.api.version}</version>"),
                "plugin-api/pom.xml takes its version from plugin.api.version");
    }

    @Test
    void sameMajorAndNoNewerMinorLoads() {
        String[] v = ApiVersion.CURRENT.split("\\.");
        int major = Integer.parseInt(v[0]), minor = Integer.parseInt(v[1]);
        assertNull(ApiVersion.incompatibility(major + ".0.0"), "an older minor of the same major loads");
        assertNull(ApiVersion.incompatibility(major + "." + minor));
        assertNull(ApiVersion.incompatibility(">=" + ApiVersion.CURRENT));
        assertEquals("it needs plugin API " + major + "." + (minor + 1) + ".0 but this gateway provides "
                + ApiVersion.CURRENT, ApiVersion.incompatibility(major + "." + (minor + 1) + ".0"));
        assertEquals("it needs plugin API " + (major + 1) + ".0.0 but this gateway provides " + ApiVersion.CURRENT,
                ApiVersion.incompatibility((major + 1) + ".0.0"));
        assertTrue(ApiVersion.incompatibility(null).startsWith("it does not declare the plugin API version"));
        assertTrue(ApiVersion.incompatibility("one.two").startsWith("its plugin API version \"one.two\" is not a version"));
    }
}
