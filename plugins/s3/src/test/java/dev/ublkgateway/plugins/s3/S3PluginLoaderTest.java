package dev.ublkgateway.plugins.s3;

import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ObjectStoreProvider;
import dev.ublkgateway.plugins.s3.testing.AwsSystemProperties;
import dev.ublkgateway.plugins.s3.testing.FakeSts;
import dev.ublkgateway.plugins.s3.testing.RecordingS3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plugin as the gateway loads it: its classes and the jars of its lib/ in a class loader of their
 * own, whose parent shares only the JDK, plugin-api, PF4J and SLF4J (on the test classpath the whole SDK
 * would be visible and hide a jar missing from lib/). The credential chain finds the sts module by class
 * name, so web identity works there only if sts is in lib/.
 */
class S3PluginLoaderTest {
    /** What the gateway's class loader gives a plugin. */
    static final class SharedOnly extends ClassLoader {
        private final ClassLoader app;

        SharedOnly(ClassLoader app) {
            super("gateway-shared", ClassLoader.getPlatformClassLoader());
            this.app = app;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("dev.ublkgateway.api.") || name.startsWith("org.pf4j.") || name.startsWith("org.slf4j.")) {
                return app.loadClass(name);
            }
            return super.loadClass(name, resolve);
        }
    }

    @TempDir
    Path tmp;

    static URL[] pluginClasspath() throws Exception {
        Path target = Path.of("target");
        Path libList = target.resolve("plugin-lib.classpath"); // written by maven-dependency-plugin (see pom.xml)
        List<URL> urls = new ArrayList<>();
        urls.add(target.resolve("classes").toUri().toURL());
        for (String jar : Files.readString(libList).strip().split(File.pathSeparator)) urls.add(Path.of(jar).toUri().toURL());
        return urls.toArray(URL[]::new);
    }

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void webIdentityThroughThePluginClassLoader() throws Exception {
        Path token = Files.writeString(tmp.resolve("token"), "plugin-loader-token");
        ClassLoader shared = new SharedOnly(getClass().getClassLoader());
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        try (AwsSystemProperties props = AwsSystemProperties.isolate(tmp);
             RecordingS3 s3 = RecordingS3.start(); FakeSts sts = FakeSts.start();
             URLClassLoader plugin = new URLClassLoader("s3-plugin", pluginClasspath(), shared)) {
            props.set("aws.roleArn", "arn:aws:iam::123456789012:role/pod").set("aws.webIdentityTokenFile", token.toString())
                    .set("aws.endpointUrlSts", sts.endpoint());
            // the SDK also tries the thread's context loader; in the gateway that one has no SDK either
            Thread.currentThread().setContextClassLoader(shared);
            Class<?> configType = plugin.loadClass(S3Config.class.getName());
            assertNotSame(S3Config.class, configType);
            Record config = (Record) configType.getMethod("of", String.class, String.class, String.class, String.class)
                    .invoke(null, s3.endpoint(), "vol", null, null);
            ObjectStoreProvider provider = (ObjectStoreProvider) plugin.loadClass(S3StoreProvider.class.getName())
                    .getConstructor().newInstance();
            try (ObjectStore store = provider.open(config)) {
                assertSame(plugin, store.getClass().getClassLoader());
            }
            assertEquals("plugin-loader-token", sts.calls().getLast().form().get("WebIdentityToken"));
            assertEquals(FakeSts.ACCESS_KEY, s3.last().accessKeyId());
            assertEquals(FakeSts.SESSION_TOKEN, s3.last().securityToken());
            // and where the modules came from: the plugin's own jars, not the gateway's class path
            assertThrows(ClassNotFoundException.class, () -> shared.loadClass("software.amazon.awssdk.services.sts.StsClient"));
            for (String c : List.of("software.amazon.awssdk.services.sts.StsClient", "software.amazon.awssdk.services.sso.SsoClient",
                    "software.amazon.awssdk.services.ssooidc.SsoOidcClient", "software.amazon.awssdk.http.apache5.Apache5HttpClient")) {
                assertSame(plugin, plugin.loadClass(c).getClassLoader(), c);
            }
        } finally {
            Thread.currentThread().setContextClassLoader(context);
        }
    }
}
