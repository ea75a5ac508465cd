//! The codec a firmware was built with, as far as its manifest records it.

use assetota_core::Codec;

/// The codec `platform` would store with, made to match what the firmware's
/// manifest records (`recorded`, its first asset's): the manifest knows the
/// window or dictionary the device decodes with, not the compression level
/// or preset, which stay the platform's (else 6).
pub fn as_recorded(platform: Codec, recorded: assetota::Codec) -> Codec {
    match recorded {
        assetota::Codec::None => Codec::None,
        assetota::Codec::Deflate { window_bits } => Codec::Deflate {
            level: match platform {
                Codec::Deflate { level, .. } => level,
                _ => 6,
            },
            window_bits,
        },
        assetota::Codec::Xz { dict_log2 } => Codec::Xz {
            preset: match platform {
                Codec::Xz { preset, .. } => preset,
                _ => 6,
            },
            dict_size: 1 << dict_log2,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_stays_the_window_is_recorded() {
        let platform = Codec::Deflate {
            level: 9,
            window_bits: 15,
        };
        assert_eq!(
            as_recorded(platform, assetota::Codec::Deflate { window_bits: 12 }),
            Codec::Deflate {
                level: 9,
                window_bits: 12
            }
        );
        assert_eq!(
            as_recorded(platform, assetota::Codec::Xz { dict_log2: 16 }),
            Codec::Xz {
                preset: 6,
                dict_size: 1 << 16
            }
        );
        assert_eq!(as_recorded(platform, assetota::Codec::None), Codec::None);
    }
}
