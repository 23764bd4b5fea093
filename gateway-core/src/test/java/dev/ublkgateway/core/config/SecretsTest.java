package dev.ublkgateway.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ublkgateway.api.ConfigOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secret options come from the environment or a file, never from the YAML, and never show up. */
class SecretsTest {

    /** A record with secrets, hiding them from toString() as it must. */
    record VaultConfig(
            @ConfigOption(required = true) String host,
            @ConfigOption(required = true, secret = true, description = "API token") String token,
            @ConfigOption(secret = true) String password,
            @ConfigOption(path = true) String caFile) {

        VaultConfig {
            if (token.length() < 4) {
                throw new IllegalArgumentException("token \"" + token + "\" is too short; use at least 4 characters");
            }
            if (password != null && password.equals(host)) {
                throw new IllegalStateException("password " + password + " equals the host name");
            }
        }

        @Override
        public String toString() {
            return "VaultConfig[host=" + host + ", token=***, password=" + (password == null ? "null" : "***")
                    + ", caFile=" + caFile + "]";
        }
    }

    /** Forgets to override toString(): the generated one would print the key. */
    record LeakyConfig(@ConfigOption(secret = true) String key) {}

    /** A stage with a secret, for a secret outside a target. */
    record SignConfig(@ConfigOption(secret = true, required = true) String key) {
        @Override
        public String toString() {
            return "SignConfig[key=***]";
        }
    }

    private static final ComponentTypes TYPES = ComponentTypes.builtIn()
            .withTarget("vault", VaultConfig.class)
            .withTarget("leaky", LeakyConfig.class)
            .withStage("sign", SignConfig.class);

    private static final Map<String, String> ENV = Map.of(
            "VAULT_TOKEN", "s3cr3t-token",
            "VAULT_PASSWORD", "pa55word",
            "SHORT", "abc",
            "EMPTY", "",
            "HOST", "vault.example",
            "DIR", "/srv/ca");

    private static GatewayConfig parse(String yaml, String source) {
        return ConfigLoader.parse(yaml, source, TYPES, ENV::get);
    }

    private static DeviceConfig vault(String targetBody) {
        return parse(yaml(targetBody), "/etc/ublk/vol.yaml").devices().getFirst();
    }

    private static String yaml(String targetBody) {
        return "devices:\n  - name: v\n    size: 1GiB\n    target:\n      type: vault\n      host: h\n" + targetBody;
    }

    private static List<String> problems(String yaml, String source) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml, source));
        return e.problems();
    }

    private static List<String> problems(String targetBody) {
        return problems(yaml(targetBody), "vol.yaml");
    }

    @Test
    void secretFromTheEnvironment() {
        DeviceConfig d = vault("      token: ${env:VAULT_TOKEN}\n      password: \"${env:VAULT_PASSWORD}\"\n");
        VaultConfig c = d.target().config(VaultConfig.class);
        assertEquals("s3cr3t-token", c.token());
        assertEquals("pa55word", c.password());
        // the options as written keep the reference, not the secret
        assertEquals("${env:VAULT_TOKEN}", d.target().options().get("token").asText());
        for (String text : List.of(c.toString(), d.target().toString(), d.toString())) {
            assertFalse(text.contains("s3cr3t-token"), text);
            assertFalse(text.contains("pa55word"), text);
        }
    }

    @Test
    void secretFromAFileRelativeToTheYaml(@TempDir Path dir) throws Exception {
        Path keys = Files.createDirectories(dir.resolve("keys"));
        Files.writeString(keys.resolve("token"), "from-file-token\n", StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("pw"), "line one\nline two\r\n\n", StandardCharsets.UTF_8);
        Path yamlFile = dir.resolve("vol.yaml");
        Files.writeString(yamlFile, yaml("      token: file:keys/token\n      password: file:" + dir.resolve("pw") + "\n"));
        GatewayConfig g = ConfigLoader.load(yamlFile, TYPES, ENV::get);
        VaultConfig c = g.devices().getFirst().target().config(VaultConfig.class);
        assertEquals("from-file-token", c.token()); // trailing line break stripped
        assertEquals("line one\nline two", c.password()); // inner ones kept
        assertFalse(g.toString().contains("from-file-token"), g.toString());
    }

    @Test
    void inlineSecretIsRejectedWithoutEchoingIt() {
        List<String> p = problems("      token: hunter2-inline\n");
        assertEquals(List.of("vol.yaml:7:14: option \"token\" is a secret: reference it as ${env:NAME} or file:/path,"
                + " never inline"), p);
        // numbers, quoted strings, near-misses of the reference syntax: all inline
        for (String value : List.of("12345678", "\"hunter2-inline\"", "$VAULT_TOKEN", "env:VAULT_TOKEN",
                "${env:VAULT_TOKEN}x", "{a: b}", "[hunter2-inline]")) {
            List<String> q = problems("      token: " + value + "\n");
            assertEquals(1, q.size(), value);
            assertEquals("vol.yaml:7:14: option \"token\" is a secret: reference it as ${env:NAME} or file:/path,"
                    + " never inline", q.getFirst(), value);
        }
    }

    @Test
    void missingOrEmptyEnvironmentVariable() {
        assertEquals(List.of("vol.yaml:7:14: environment variable NO_SUCH_VAR (secret option \"token\") is not set;"
                + " set it for the gateway or reference another variable"), problems("      token: ${env:NO_SUCH_VAR}\n"));
        assertEquals(List.of("vol.yaml:7:14: environment variable EMPTY (secret option \"token\") is empty;"
                + " set it to the secret"), problems("      token: ${env:EMPTY}\n"));
        assertEquals(List.of("vol.yaml:7:14: option \"token\" is a secret with a malformed reference; use ${env:NAME}"
                + " with a variable name of letters, digits and '_'"), problems("      token: ${env:A-B}\n"));
    }

    @Test
    void unreadableSecretFileIsNamedButNotShown(@TempDir Path dir) throws Exception {
        Path source = dir.resolve("vol.yaml");
        assertEquals(List.of("vol.yaml:7:14: secret file \"" + dir.resolve("missing.key") + "\" (option \"token\")"
                        + " cannot be read (no such file); check the path (absolute or relative to the configuration"
                        + " file) and its permissions"),
                problems(yaml("      token: file:missing.key\n"), source.toString()).stream()
                        .map(s -> s.replace(source.toString(), "vol.yaml")).toList());
        assertEquals(List.of(source + ":7:14: secret file \"" + dir + "\" (option \"token\") is a directory;"
                + " name the file that holds the secret"), problems(yaml("      token: file:.\n"), source.toString()));
        Files.writeString(dir.resolve("blank"), "\n\n");
        assertEquals(List.of(source + ":7:14: secret file \"" + dir.resolve("blank") + "\" (option \"token\") is"
                + " empty; write the secret into it"), problems(yaml("      token: file:blank\n"), source.toString()));
        Files.write(dir.resolve("latin1"), new byte[] {'p', (byte) 0xe9, 'x'});
        assertEquals(List.of(source + ":7:14: secret file \"" + dir.resolve("latin1") + "\" (option \"token\") is"
                + " not valid UTF-8; save the secret as UTF-8 text"), problems(yaml("      token: file:latin1\n"),
                source.toString()));
    }

    @Test
    void constructorMessagesNeverShowTheSecret() {
        // the record's own message quotes the value: the loader hides it
        assertEquals(List.of("vol.yaml:7:14: token \"***\" is too short; use at least 4 characters"),
                problems("      token: ${env:SHORT}\n"));
        List<String> p = problems(yaml("      token: ${env:VAULT_TOKEN}\n      password: ${env:HOST}\n")
                .replace("host: h", "host: vault.example"), "vol.yaml");
        assertEquals(List.of("vol.yaml:5:7: target type \"vault\" rejected its options (IllegalStateException:"
                + " password *** equals the host name); check the options of target type \"vault\""), p);
    }

    @Test
    void secretsAreCheckedAlongsideOtherProblems() {
        List<String> p = problems("      token: inline-secret-value\n      password: ${env:NOPE}\n      ca-file: [x]\n");
        assertEquals(List.of(
                "vol.yaml:7:14: option \"token\" is a secret: reference it as ${env:NAME} or file:/path, never inline",
                "vol.yaml:8:17: environment variable NOPE (secret option \"password\") is not set; set it for the"
                        + " gateway or reference another variable",
                "vol.yaml:9:16: ca-file is a list, not a string; use a file path, absolute or relative to the"
                        + " configuration file"), p);
        assertFalse(String.join("\n", p).contains("inline-secret-value"));
    }

    @Test
    void aRecordThatWouldPrintTheSecretIsRefused() {
        String yaml = """
                devices:
                  - name: l
                    size: 1GiB
                    target:
                      type: leaky
                      key: ${env:VAULT_TOKEN}
                """;
        List<String> p = problems(yaml, "vol.yaml");
        assertEquals(List.of("vol.yaml:6:12: the config record " + LeakyConfig.class.getName() + " of target type"
                + " \"leaky\" shows secret option \"key\" in its toString(); the record must override toString() to"
                + " hide it (see ConfigOption.secret)"), p);
        assertFalse(p.getFirst().contains("s3cr3t-token"));
    }

    @Test
    void stagesTakeSecretsToo() {
        DeviceConfig d = parse("""
                devices:
                  - name: s
                    size: 1GiB
                    stages:
                      - {type: sign, key: "${env:VAULT_PASSWORD}"}
                    target: {type: memory}
                """, "vol.yaml").devices().getFirst();
        assertEquals("pa55word", d.stages().getFirst().config(SignConfig.class).key());
        assertFalse(d.toString().contains("pa55word"), d.toString());
        assertEquals(List.of("vol.yaml:5:27: option \"key\" is a secret: reference it as ${env:NAME} or file:/path,"
                + " never inline"), problems("""
                devices:
                  - name: s
                    size: 1GiB
                    stages:
                      - {type: sign, key: pa55word}
                    target: {type: memory}
                """, "vol.yaml"));
    }

    @Test
    void environmentReferencesInOrdinaryStrings() {
        VaultConfig c = parse(yaml("      token: ${env:VAULT_TOKEN}\n      ca-file: ${env:DIR}/ca.pem\n")
                .replace("host: h", "host: ${env:HOST}"), "/etc/ublk/vol.yaml")
                .devices().getFirst().target().config(VaultConfig.class);
        assertEquals("vault.example", c.host());
        assertEquals("/srv/ca/ca.pem", c.caFile());
        // $${ is a literal ${; a relative result is resolved like any path
        VaultConfig literal = vault("      token: ${env:VAULT_TOKEN}\n      ca-file: \"$${env:DIR}/x-${env:HOST}\"\n")
                .target().config(VaultConfig.class);
        assertEquals("/etc/ublk/${env:DIR}/x-vault.example", literal.caFile());
        assertNull(literal.password());
    }

    @Test
    void missingVariableInAnOrdinaryString() {
        assertEquals(List.of("vol.yaml:1:60: environment variable IMG (option \"path\") is not set; set it for the"
                + " gateway or change the option"), problems("""
                devices: [{name: a, size: 4KiB, target: {type: file, path: "${env:IMG}.img"}}]
                """, "vol.yaml"));
        assertEquals(List.of("vol.yaml:6:13: option \"host\" refers to an environment variable with an invalid name;"
                + " use ${env:NAME} with a variable name of letters, digits and '_'"),
                problems(yaml("      token: ${env:VAULT_TOKEN}\n").replace("host: h", "host: ${env:}"), "vol.yaml"));
    }

    @Test
    void underSudoAnUnsetVariableNamesSudoAndItsFix() {
        Map<String, String> sudo = Map.of("SUDO_USER", "alice", "HOST", "h");
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(yaml("      token: ${env:VAULT_TOKEN}\n"), "vol.yaml", TYPES, sudo::get));
        assertEquals(List.of("vol.yaml:7:14: environment variable VAULT_TOKEN (secret option \"token\") is not set;"
                + " sudo does not pass the environment on: run `sudo -E` or `sudo --preserve-env=VAULT_TOKEN`,"
                + " or use a file: secret"), e.problems());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                "devices: [{name: a, size: 4KiB, target: {type: file, path: \"${env:IMG}.img\"}}]\n", "vol.yaml", TYPES, sudo::get));
        assertEquals(List.of("vol.yaml:1:60: environment variable IMG (option \"path\") is not set;"
                + " sudo does not pass the environment on: run `sudo -E` or `sudo --preserve-env=IMG`"), e.problems());
    }

    @Test
    void checkingElsewhereMakesMissingSecretsNotes(@TempDir Path dir) throws Exception {
        Path yamlFile = dir.resolve("vol.yaml");
        Files.writeString(yamlFile, yaml("      token: ${env:NOT_HERE}\n      password: file:keys/pw\n"));
        ConfigLoader.Checked c = ConfigLoader.check(yamlFile, TYPES, ENV::get);
        assertEquals(List.of(
                yamlFile + ":7:14: note: secret ${env:NOT_HERE} is not set here; it must be set where the gateway runs",
                yamlFile + ":8:17: note: secret file:keys/pw does not exist here; it must be readable where the gateway runs"),
                c.notes());
        assertEquals(new SecretNotHere("vault"), c.config().devices().getFirst().target().config());
        // loading to serve still fails on them
        assertThrows(ConfigException.class, () -> ConfigLoader.load(yamlFile, TYPES, ENV::get));
    }

    @Test
    void checkingElsewhereStillFailsOnEveryOtherProblem(@TempDir Path dir) throws Exception {
        Path yamlFile = dir.resolve("vol.yaml");
        Files.writeString(yamlFile, yaml("      token: ${env:NOT_HERE}\n      password: inline\n").replace("1GiB", "1Gb"));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.check(yamlFile, TYPES, ENV::get));
        assertEquals(2, e.problems().size(), e.problems().toString());
        assertTrue(e.problems().get(0).contains("size \"1Gb\""), e.problems().toString());
        assertTrue(e.problems().get(1).contains("never inline"), e.problems().toString());
        // a secret that is here is still checked by its record
        Files.writeString(yamlFile, yaml("      token: ${env:SHORT}\n"));
        e = assertThrows(ConfigException.class, () -> ConfigLoader.check(yamlFile, TYPES, ENV::get));
        assertTrue(e.getMessage().contains("too short"), e.getMessage());
    }
}
