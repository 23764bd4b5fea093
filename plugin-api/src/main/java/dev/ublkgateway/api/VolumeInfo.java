package dev.ublkgateway.api;

/**
 * What a chunk codec learns about the volume it serves, from the volume's metadata object.
 *
 * @param volumeId a random id fixed when the volume was created (16 bytes), for binding stored data to it
 * @param kdfSalt  a random salt fixed when the volume was created (32 bytes), for deriving keys from passphrases
 */
public record VolumeInfo(byte[] volumeId, byte[] kdfSalt) {
    public VolumeInfo {
        volumeId = volumeId.clone();
        kdfSalt = kdfSalt.clone();
    }

    @Override
    public byte[] volumeId() {
        return volumeId.clone();
    }

    @Override
    public byte[] kdfSalt() {
        return kdfSalt.clone();
    }
}
