package dev.ublkgateway.api;

/**
 * The plugin API's semantic version. A plugin declares the API version it was built against
 * ({@code plugin.requires} in plugin.properties, or {@code Plugin-Requires} in its manifest); the gateway
 * loads it when the major versions are equal and the plugin's minor version is not newer than
 * {@link #CURRENT}'s. Anything else is refused with a message naming both versions.
 */
public final class ApiVersion {
    /**
     * The version of this API, from the build (this module's Maven version, also written to this jar's
     * manifest as {@code Plugin-Api-Version}). 1.1 added stages that hold requests
     * ({@link BlockRequest#resume}); 1.2 added {@link Target#needsData};
     * 1.3 added {@link Target#extents} (holes, for NBD block status); 1.4 added {@link Capabilities}
     * ({@link BlockStage#capabilities}, {@link Target#capabilities}: multi-conn safety, data access, cache) and
     * {@link Errno}; 1.5 added {@link RetryPolicy} and {@link ObjectStore#retries()}; 1.6 added {@link MetricsSource}
     * and {@link MetricsSink} (counters and gauges the gateway's metrics endpoint shows), {@link ProgressReporter}
     * ({@link ProviderContext#progress}), volume operations ({@link TargetProvider#volume}, {@link Volume}) and
     * {@link ObjectStore#list}; 1.7 added zero copy ({@link Capabilities#zeroCopy},
     * {@link BlockRequest#registeredBuffer}) and {@link Target#resize} (online resize),
     * volume snapshots and garbage collection ({@link Volume#snapshot}, {@link Volume#snapshots}, {@link Volume#rollback},
     * {@link Volume#deleteSnapshot}, {@link Volume#exportSnapshotTo}, {@link Volume#gc}); 1.8 added import from and export
     * to images outside the file system ({@link BlockImage}, e.g. NBD exports), {@link Volume.VolumeStatus#incompleteImport},
     * volume clones ({@link Volume#cloneFrom}, {@link Volume#flatten}, {@link Volume#lineage}) and {@link ObjectStore#sibling}.
     */
    public static final String CURRENT = load();

    private ApiVersion() {}

    private static String load() {
        try (java.io.InputStream in = ApiVersion.class.getResourceAsStream("api-version.properties")) {
            java.util.Properties p = new java.util.Properties();
            if (in != null) p.load(in);
            String v = p.getProperty("version", "");
            if (!v.matches("\\d+\\.\\d+\\.\\d+")) {
                throw new IllegalStateException("plugin-api jar is damaged: api-version.properties says \"" + v + "\"");
            }
            return v;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("plugin-api jar is damaged: " + e.getMessage(), e);
        }
    }

    /**
     * Null when a plugin built against {@code required} can run on this API, else why not.
     *
     * @param required the version the plugin declares, e.g. "1.0.0" or "1.0"
     */
    public static String incompatibility(String required) {
        if (required == null || required.isBlank() || required.equals("*")) {
            return "it does not declare the plugin API version it was built for (plugin.requires, e.g. "
                    + CURRENT + ")";
        }
        String v = required.strip().replaceFirst("^[>=^~]+", "");
        String[] want = v.split("\\.");
        String[] have = CURRENT.split("\\.");
        try {
            int wMajor = Integer.parseInt(want[0]);
            int wMinor = want.length > 1 ? Integer.parseInt(want[1]) : 0;
            int hMajor = Integer.parseInt(have[0]);
            int hMinor = Integer.parseInt(have[1]);
            if (wMajor != hMajor || wMinor > hMinor) {
                return "it needs plugin API " + required + " but this gateway provides " + CURRENT;
            }
            return null;
        } catch (NumberFormatException e) {
            return "its plugin API version \"" + required + "\" is not a version like " + CURRENT;
        }
    }
}
