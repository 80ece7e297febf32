//! The compressions the kernel can unpack an initramfs from, in the exact flavours it reads.

use std::fmt;
use std::io::{Read, Write};
use std::str::FromStr;

use crate::error::Error;

/// How the cpio archive is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// No compression (needs only `CONFIG_BLK_DEV_INITRD`).
    None,
    /// gzip, as in the seed recipe: libdeflate level [`GZIP_LEVEL`], no file name, mtime 0.
    #[default]
    Gzip,
    /// zstd level [`ZSTD_LEVEL`] with a checksum, the level the kernel's own `usr/Makefile` uses.
    Zstd,
    /// xz with a CRC32 check and a 1 MiB dictionary, as the kernel's `usr/Makefile` writes it.
    Xz,
    /// lz4 in the legacy frame format (magic `0x184C2102`, 8 MiB blocks), as `lz4 -l` writes it.
    Lz4,
}

/// libdeflate level for gzip: smaller than GNU `gzip -9` on every tree measured in
/// `docs/rootfs.md` (level 6 was not, on Python sources), and still several times faster.
pub const GZIP_LEVEL: i32 = 9;
/// zstd level, as in the kernel's `cmd_zstd` (`zstd -19`).
pub const ZSTD_LEVEL: i32 = 19;
/// xz preset, as `xz` uses by default; the dictionary is cut to 1 MiB like the kernel's `cmd_xzmisc`.
pub const XZ_PRESET: u32 = 6;
/// Dictionary size for xz: what the kernel uses for initramfs (`--lzma2=dict=1MiB`).
const XZ_DICT: u32 = 1 << 20;
/// Magic of the lz4 legacy frame, little-endian.
const LZ4_LEGACY_MAGIC: u32 = 0x184C_2102;
/// Uncompressed block size of the lz4 legacy frame: the kernel's `LZ4_DEFAULT_UNCOMPRESSED_CHUNK_SIZE`.
const LZ4_LEGACY_BLOCK: usize = 8 << 20;

impl Compression {
    /// Every compression, in the order the docs list them.
    pub const ALL: [Compression; 5] = [
        Compression::Gzip,
        Compression::Zstd,
        Compression::Xz,
        Compression::Lz4,
        Compression::None,
    ];

    /// The name `FromStr` accepts: `gzip`, `zstd`, `xz`, `lz4`, `none`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Lz4 => "lz4",
        }
    }

    /// The kernel option that lets the kernel unpack it (`CONFIG_RD_GZIP` ...), `None` for no compression.
    pub fn kernel_symbol(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("CONFIG_RD_GZIP"),
            Compression::Zstd => Some("CONFIG_RD_ZSTD"),
            Compression::Xz => Some("CONFIG_RD_XZ"),
            Compression::Lz4 => Some("CONFIG_RD_LZ4"),
        }
    }

    /// The compressor's file extension, added after `.cpio`: `gz`, `zst`, `xz`, `lz4`, and `""` for none.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => "gz",
            Compression::Zstd => "zst",
            Compression::Xz => "xz",
            Compression::Lz4 => "lz4",
        }
    }

    /// Recognises a compressed stream by its magic bytes; `Ok(None)` is a plain newc archive.
    pub fn detect(data: &[u8]) -> Result<Option<Compression>, Error> {
        let found = match data {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Xz,
            [0x02, 0x21, 0x4c, 0x18, ..] => Compression::Lz4,
            [b'0', b'7', b'0', b'7', b'0', b'1' | b'2', ..] => return Ok(None),
            [b'B', b'Z', b'h', ..] => {
                return Err(Error::Archive(
                    "bzip2 archives are not supported".to_string(),
                ))
            }
            [0x5d, 0x00, 0x00, ..] => {
                return Err(Error::Archive(
                    "lzma archives are not supported".to_string(),
                ))
            }
            [0x89, b'L', b'Z', b'O', ..] => {
                return Err(Error::Archive("lzo archives are not supported".to_string()))
            }
            [0x04, 0x22, 0x4d, 0x18, ..] => return Err(Error::Archive(
                "this is an lz4 *frame* (lz4 without -l); the kernel reads only the legacy format"
                    .to_string(),
            )),
            _ => {
                return Err(Error::Archive(
                    "neither a newc archive nor a known compression".to_string(),
                ))
            }
        };
        Ok(Some(found))
    }

    /// Compresses a whole archive.
    pub(crate) fn compress(self, raw: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |message: String| Error::Compression {
            compression: self,
            what: "compression",
            message,
        };
        match self {
            Compression::None => Ok(raw.to_vec()),
            Compression::Gzip => {
                let level = libdeflater::CompressionLvl::new(GZIP_LEVEL)
                    .map_err(|e| failed(format!("{e:?}")))?;
                let mut compressor = libdeflater::Compressor::new(level);
                let mut out = vec![0; compressor.gzip_compress_bound(raw.len())];
                let len = compressor
                    .gzip_compress(raw, &mut out)
                    .map_err(|e| failed(e.to_string()))?;
                out.truncate(len);
                Ok(out)
            }
            Compression::Zstd => {
                let mut compressor =
                    zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(|e| failed(e.to_string()))?;
                compressor
                    .include_checksum(true)
                    .map_err(|e| failed(e.to_string()))?;
                compressor.compress(raw).map_err(|e| failed(e.to_string()))
            }
            Compression::Xz => {
                let mut options = liblzma::stream::LzmaOptions::new_preset(XZ_PRESET)
                    .map_err(|e| failed(e.to_string()))?;
                options.dict_size(XZ_DICT);
                let mut filters = liblzma::stream::Filters::new();
                filters.lzma2(&options);
                let stream = liblzma::stream::Stream::new_stream_encoder(
                    &filters,
                    liblzma::stream::Check::Crc32,
                )
                .map_err(|e| failed(e.to_string()))?;
                let mut encoder = liblzma::write::XzEncoder::new_stream(
                    Vec::with_capacity(raw.len() / 3),
                    stream,
                );
                encoder.write_all(raw).map_err(|e| failed(e.to_string()))?;
                encoder.finish().map_err(|e| failed(e.to_string()))
            }
            Compression::Lz4 => {
                let mut out = Vec::with_capacity(raw.len() / 2 + 16);
                out.extend_from_slice(&LZ4_LEGACY_MAGIC.to_le_bytes());
                for block in raw.chunks(LZ4_LEGACY_BLOCK) {
                    let compressed = lz4_flex::block::compress(block);
                    out.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
                    out.extend_from_slice(&compressed);
                }
                Ok(out)
            }
        }
    }

    /// Decompresses a whole stream (concatenated members or frames included).
    pub(crate) fn decompress(self, data: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |message: String| Error::Compression {
            compression: self,
            what: "decompression",
            message,
        };
        let mut out = Vec::with_capacity(data.len() * 3);
        match self {
            Compression::None => out.extend_from_slice(data),
            Compression::Gzip => {
                flate2::read::MultiGzDecoder::new(data)
                    .read_to_end(&mut out)
                    .map_err(|e| failed(e.to_string()))?;
            }
            Compression::Zstd => {
                zstd::stream::read::Decoder::new(data)
                    .and_then(|mut d| d.read_to_end(&mut out))
                    .map_err(|e| failed(e.to_string()))?;
            }
            Compression::Xz => {
                liblzma::read::XzDecoder::new_multi_decoder(data)
                    .read_to_end(&mut out)
                    .map_err(|e| failed(e.to_string()))?;
            }
            Compression::Lz4 => decompress_lz4_legacy(data, &mut out).map_err(failed)?,
        }
        Ok(out)
    }
}

/// Reads the lz4 legacy frame the way the kernel's `lib/decompress_unlz4.c` does: a repeated
/// magic is skipped (concatenated frames), a zero block size or the end of input stops.
fn decompress_lz4_legacy(data: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let mut rest = data.get(4..).ok_or("truncated lz4 magic")?;
    let mut block = vec![0u8; LZ4_LEGACY_BLOCK];
    while rest.len() >= 4 {
        let size = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        rest = &rest[4..];
        if size == LZ4_LEGACY_MAGIC {
            continue;
        }
        if size == 0 {
            break;
        }
        let compressed = rest.get(..size as usize).ok_or("truncated lz4 block")?;
        let len =
            lz4_flex::block::decompress_into(compressed, &mut block).map_err(|e| e.to_string())?;
        out.extend_from_slice(&block[..len]);
        rest = &rest[size as usize..];
    }
    Ok(())
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Compression {
    type Err = Error;

    fn from_str(s: &str) -> Result<Compression, Error> {
        Compression::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Compression::ALL.iter().map(|c| c.name()).collect();
                Error::Option(format!(
                    "unknown compression `{s}`; expected one of {}",
                    names.join(", ")
                ))
            })
    }
}
