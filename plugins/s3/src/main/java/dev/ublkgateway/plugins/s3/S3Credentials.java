package dev.ublkgateway.plugins.s3;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.profiles.Profile;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.profiles.ProfileFileLocation;
import software.amazon.awssdk.profiles.ProfileProperty;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the s3 store's credentials (and, with {@code profile}, its region) come from: explicit keys, a
 * named profile of the shared config/credentials files, or the SDK's default chain. Assume-role and web
 * identity need the SDK's sts module, SSO its sso and ssooidc modules; the SDK finds them by class name
 * through the plugin's class loader, so they are in the plugin's lib/.
 */
final class S3Credentials {
    private S3Credentials() {
    }

    /** The provider for the config; a named profile must exist (checked now, so open fails in one line). */
    static AwsCredentialsProvider provider(S3Config c) throws IOException {
        if (c.accessKeyId() != null) {
            return StaticCredentialsProvider.create(c.sessionToken() == null
                    ? AwsBasicCredentials.create(c.accessKeyId(), c.secretAccessKey())
                    : AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken()));
        }
        if (c.profile() != null) {
            profile(c.profile());
            try {
                // resolves keys, role_arn + source_profile/credential_source (sts), web_identity_token_file (sts),
                // sso_* (sso, ssooidc) and credential_process of that profile
                return ProfileCredentialsProvider.builder().profileName(c.profile()).build();
            } catch (RuntimeException e) {
                throw noCredentials(c, e);
            }
        }
        return DefaultCredentialsProvider.builder().build();
    }

    /** The region: the config's, else the profile's (with profile), else the SDK's region chain, else us-east-1. */
    static Region region(S3Config c) throws IOException {
        if (c.region() != null) return Region.of(c.region());
        if (c.profile() != null) {
            Optional<String> r = profile(c.profile()).property(ProfileProperty.REGION).filter(s -> !s.isBlank());
            if (r.isPresent()) return Region.of(r.get().strip());
        }
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkException e) {
            return Region.US_EAST_1;
        }
    }

    /** Resolves the credentials once, so a source that gives none fails at open in one line, not at the first request. */
    static void check(AwsCredentialsProvider p, S3Config c) throws IOException {
        try {
            p.resolveCredentials();
        } catch (SdkException | IllegalStateException | IllegalArgumentException | UncheckedIOException e) {
            throw noCredentials(c, e);
        }
    }

    private static IOException noCredentials(S3Config c, RuntimeException e) {
        String why = S3ObjectStore.oneLine(e).replaceAll("\\.$", ""); // the SDK ends some messages with a period
        if (c.profile() != null) {
            return new IOException("s3: profile " + c.profile() + " gave no credentials: " + why + "; fix the profile in " + files());
        }
        return new IOException("s3: no credentials for bucket " + c.bucket() + " (" + why + "); set access-key-id and "
                + "secret-access-key, or profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE "
                + "or AWS_PROFILE for the SDK's credential chain");
    }

    /** The named profile, from the files the SDK reads (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/). */
    static Profile profile(String name) throws IOException {
        ProfileFile f;
        try {
            f = ProfileFile.defaultProfileFile();
        } catch (RuntimeException e) {
            throw new IOException("s3: cannot read the profile files " + files() + ": " + S3ObjectStore.oneLine(e) + "; fix them");
        }
        Optional<Profile> p = f.profile(name);
        if (p.isEmpty()) {
            throw new IOException("s3: profile " + name + " is not in " + files()
                    + "; add [profile " + name + "] to the config file or [" + name + "] to the credentials file, or fix profile");
        }
        return p.get();
    }

    /** The two files the SDK looks at, each marked when missing. */
    static String files() {
        return file(ProfileFileLocation.configurationFilePath()) + " or " + file(ProfileFileLocation.credentialsFilePath());
    }

    private static String file(Path p) {
        return Files.isReadable(p) ? p.toString() : p + " (missing)";
    }
}
