package dev.ublkgateway.plugins.s3;

import dev.ublkgateway.plugins.s3.testing.AwsSystemProperties;
import dev.ublkgateway.plugins.s3.testing.FakeSsoPortal;
import dev.ublkgateway.plugins.s3.testing.FakeSts;
import dev.ublkgateway.plugins.s3.testing.RecordingS3;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each credentials source, against local stand-ins only: an S3 that records the key id, region and
 * session token each request was signed with, an STS and an SSO portal that hand out temporary credentials.
 */
class S3CredentialsTest {
    @TempDir
    Path tmp;
    AwsSystemProperties props;
    RecordingS3 s3;
    FakeSts sts;

    @BeforeEach
    void setUp() throws IOException {
        props = AwsSystemProperties.isolate(tmp);
        s3 = RecordingS3.start();
        sts = FakeSts.start();
    }

    @AfterEach
    void tearDown() {
        props.close();
        s3.close();
        sts.close();
    }

    S3Config chain() {
        return S3Config.of(s3.endpoint(), "vol", null, null);
    }

    void open(S3Config c) throws IOException {
        try (S3ObjectStore s = S3ObjectStore.open(c)) {
            assertEquals("/vol", s3.last().path());
        }
    }

    void writeProfiles(String config, String credentials) throws IOException {
        Path cf = tmp.resolve("config"), cr = tmp.resolve("credentials");
        Files.writeString(cf, config);
        Files.writeString(cr, credentials);
        props.set("aws.configFile", cf.toString()).set("aws.sharedCredentialsFile", cr.toString());
    }

    @Test
    void systemProperties() throws IOException {
        props.set("aws.accessKeyId", "AKIDSYSPROP").set("aws.secretAccessKey", "secret");
        open(chain());
        assertEquals("AKIDSYSPROP", s3.last().accessKeyId());
        assertNull(s3.last().securityToken());
    }

    /** Runs {@link CredentialsProbe} in a JVM of its own with these variables and no other AWS_* ones; its output. */
    String probe(Map<String, String> vars, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), CredentialsProbe.class.getName(), s3.endpoint()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("AWS_"));
        env.putAll(Map.of("AWS_EC2_METADATA_DISABLED", "true",
                "AWS_CONFIG_FILE", tmp.resolve("no-config").toString(), "AWS_SHARED_CREDENTIALS_FILE", tmp.resolve("no-credentials").toString()));
        env.putAll(vars);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void environmentVariables() throws Exception {
        // the environment cannot be changed in-process: a JVM of its own
        probe(Map.of("AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT", "AWS_SECRET_ACCESS_KEY", "secret", "AWS_SESSION_TOKEN", "env-token",
                "AWS_REGION", "eu-central-1"));
        assertEquals("AKIDENVIRONMENT", s3.last().accessKeyId());
        assertEquals("eu-central-1", s3.last().region());
        assertEquals("env-token", s3.last().securityToken());
    }

    @Test
    void ssoProfile() throws Exception {
        // an sso-session profile after "aws sso login": the token is in HOME's ~/.aws/sso/cache, named by the
        // SHA-1 of the session name; the sso module trades it for role credentials at the portal (ssooidc reads it)
        Path home = tmp.resolve("home"), cache = Files.createDirectories(home.resolve(".aws/sso/cache"));
        String sha1 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest("corp".getBytes(StandardCharsets.UTF_8)));
        Files.writeString(cache.resolve(sha1 + ".json"), "{\"accessToken\": \"cached-sso-token\", \"expiresAt\": \"2099-01-01T00:00:00Z\", "
                + "\"region\": \"us-east-1\", \"startUrl\": \"https://corp.example/start\"}");
        Path config = Files.writeString(tmp.resolve("config"), "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\n"
                + "sso_role_name = ReadWrite\nregion = eu-north-1\n\n[sso-session corp]\nsso_start_url = https://corp.example/start\n"
                + "sso_region = us-east-1\n");
        try (FakeSsoPortal portal = FakeSsoPortal.start()) {
            probe(Map.of("HOME", home.toString(), "AWS_CONFIG_FILE", config.toString(), "AWS_ENDPOINT_URL_SSO", portal.endpoint()), "dev");
            FakeSsoPortal.Call call = portal.calls().getLast();
            assertEquals("cached-sso-token", call.bearerToken());
            assertTrue(call.query().contains("role_name=ReadWrite") && call.query().contains("account_id=111122223333"), call.query());
        }
        assertEquals(FakeSsoPortal.ACCESS_KEY, s3.last().accessKeyId());
        assertEquals(FakeSsoPortal.SESSION_TOKEN, s3.last().securityToken());
        assertEquals("eu-north-1", s3.last().region());
    }

    @Test
    void profileFileWithItsRegion() throws IOException {
        writeProfiles("[profile ops]\nregion = eu-west-3\n",
                "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s0\n"
                        + "[ops]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s1\n");
        open(chain().withProfile("ops"));
        assertEquals("AKIDPROFILE", s3.last().accessKeyId());
        assertEquals("eu-west-3", s3.last().region());
        // the config's region wins over the profile's
        open(chain().withProfile("ops").withRegion("ap-south-1"));
        assertEquals("ap-south-1", s3.last().region());
        // without profile: the default chain, which reads the [default] profile of the same files
        open(chain());
        assertEquals("AKIDDEFAULT", s3.last().accessKeyId());
        assertEquals("us-east-1", s3.last().region());
    }

    @Test
    void assumeRoleProfile() throws IOException {
        writeProfiles("[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\n",
                "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n");
        props.set("aws.endpointUrlSts", sts.endpoint());
        open(chain().withProfile("deploy"));
        FakeSts.Call call = sts.calls().getLast();
        assertEquals("AssumeRole", call.action());
        assertEquals("arn:aws:iam::123456789012:role/deploy", call.form().get("RoleArn"));
        assertTrue(call.authorization().contains("Credential=AKIDBASE/"), call.authorization());
        assertEquals(FakeSts.ACCESS_KEY, s3.last().accessKeyId());
        assertEquals(FakeSts.SESSION_TOKEN, s3.last().securityToken());
    }

    @Test
    void webIdentityProfile() throws IOException {
        Path token = Files.writeString(tmp.resolve("token"), "profile-web-identity-token");
        writeProfiles("[profile irsa]\nrole_arn = arn:aws:iam::123456789012:role/irsa\nweb_identity_token_file = " + token
                + "\nrole_session_name = ublk\n", "");
        props.set("aws.endpointUrlSts", sts.endpoint());
        open(chain().withProfile("irsa"));
        FakeSts.Call call = sts.calls().getLast();
        assertEquals("AssumeRoleWithWebIdentity", call.action());
        assertEquals("profile-web-identity-token", call.form().get("WebIdentityToken"));
        assertEquals("arn:aws:iam::123456789012:role/irsa", call.form().get("RoleArn"));
        assertEquals(FakeSts.ACCESS_KEY, s3.last().accessKeyId());
        assertEquals(FakeSts.SESSION_TOKEN, s3.last().securityToken());
    }

    @Test
    void webIdentityOfTheDefaultChain() throws IOException {
        // what EKS sets for a pod (IRSA): AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, here as system properties
        Path token = Files.writeString(tmp.resolve("token"), "irsa-token");
        props.set("aws.roleArn", "arn:aws:iam::123456789012:role/pod").set("aws.webIdentityTokenFile", token.toString())
                .set("aws.endpointUrlSts", sts.endpoint());
        open(chain());
        assertEquals("irsa-token", sts.calls().getLast().form().get("WebIdentityToken"));
        assertEquals(FakeSts.ACCESS_KEY, s3.last().accessKeyId());
        assertEquals(FakeSts.SESSION_TOKEN, s3.last().securityToken());
    }

    @Test
    void unknownProfileIsOneLineNamingTheFiles() throws IOException {
        IOException e = assertThrows(IOException.class, () -> S3ObjectStore.open(chain().withProfile("nope")));
        String m = e.getMessage();
        assertTrue(m.startsWith("s3: profile nope is not in " + tmp.resolve("no-config") + " (missing) or "
                + tmp.resolve("no-credentials") + " (missing); add [profile nope]"), m);
        assertFalse(m.contains("\n"), m);
        assertTrue(s3.requests().isEmpty());

        writeProfiles("[profile other]\nregion = eu-west-1\n", "[other]\naws_access_key_id = A\naws_secret_access_key = s\n");
        m = assertThrows(IOException.class, () -> S3ObjectStore.open(chain().withProfile("nope"))).getMessage();
        assertTrue(m.startsWith("s3: profile nope is not in " + tmp.resolve("config") + " or " + tmp.resolve("credentials") + ";"), m);
    }

    @Test
    void profileWithoutCredentialsIsOneLine() throws IOException {
        writeProfiles("[profile empty]\nregion = eu-west-1\n", "");
        String m = assertThrows(IOException.class, () -> S3ObjectStore.open(chain().withProfile("empty"))).getMessage();
        assertTrue(m.startsWith("s3: profile empty gave no credentials: "), m);
        assertTrue(m.endsWith("; fix the profile in " + tmp.resolve("config") + " or " + tmp.resolve("credentials")), m);
        assertFalse(m.contains("\n"), m);
        // an assume-role profile without a source of credentials to assume it with
        writeProfiles("[profile half]\nrole_arn = arn:aws:iam::123456789012:role/x\n", "");
        m = assertThrows(IOException.class, () -> S3ObjectStore.open(chain().withProfile("half"))).getMessage();
        assertTrue(m.startsWith("s3: profile half gave no credentials: "), m);
        assertFalse(m.contains("\n"), m);
    }

    @Test
    void noCredentialsAtAllIsOneLine() {
        String m = assertThrows(IOException.class, () -> S3ObjectStore.open(chain())).getMessage();
        assertTrue(m.startsWith("s3: no credentials for bucket vol ("), m);
        assertTrue(m.contains("set access-key-id and secret-access-key, or profile"), m);
        assertFalse(m.contains("\n"), m);
    }

    @Test
    void profileAndKeysAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new S3Config("b", null, null, null, null,
                "AKID", "secret", null, "ops", null, null, null, null, null));
        assertEquals("profile ops and access-key-id are both set; remove access-key-id/secret-access-key to use the profile, "
                + "or remove profile", e.getMessage());
        assertTrue(S3Config.of(null, "b", null, null).withProfile("ops").toString().contains("credentials=profile ops"));
    }
}
