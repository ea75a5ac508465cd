#!/usr/bin/env node
// The npm reference for cargo-assetota's Particle support: binary-version-reader
// (BVR) 3.1.3, the library particle-cli 3.43.1 bundles with, run on the inputs a
// Rust test gives it. Nothing here reimplements Particle's formats: every answer
// comes from BVR's own functions (and Node's bundled zlib).
//
// Usage: node oracle.js < request.json > response.json
//   request:  {"ops": [{"op": "...", ...}, ...]}
//   response: {"versions": {...}, "results": [...]}, one result per op, in order.
// An op that throws gives {"error": message, "name": error class} instead of
// stopping the batch, so expected failures can be compared too.
//
// Binary inputs and outputs are files (paths in the request), so nothing large
// goes through JSON.
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const crypto = require('crypto');
const bvr = require('binary-version-reader');
const { HalModuleParser, ModuleInfo, firmwareTestHelper } = bvr;
const moduleEncoding = require('binary-version-reader/lib/moduleEncoding');

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

// A deterministic byte stream (xorshift32), so fixtures built from a seed are
// the same on every run.
function seeded(len, seed) {
	const out = Buffer.alloc(len);
	let x = (seed >>> 0) || 0x9e3779b9;
	for (let i = 0; i < len; i++) {
		x ^= x << 13; x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5; x >>>= 0;
		out[i] = x & 0xff;
	}
	return out;
}

function readAssets(list) {
	return (list || []).map((a) => {
		const asset = { name: a.name };
		if (a.path !== undefined) {
			asset.data = fs.readFileSync(a.path);
		}
		if (a.hash !== undefined) {
			asset.hash = a.hash;
		}
		return asset;
	});
}

function write(out, data) {
	fs.mkdirSync(path.dirname(out), { recursive: true });
	fs.writeFileSync(out, data);
	return { out, size: data.length, sha256: sha256(data) };
}

// Extensions as BVR parses them, without the raw `data` buffers.
function plainExtensions(exts) {
	return (exts || []).map((e) => {
		const o = {};
		for (const [k, v] of Object.entries(e)) {
			if (k === 'data') {
				o.hex = v.toString('hex');
			} else if (Buffer.isBuffer(v)) {
				o[k] = v.toString('hex');
			} else {
				o[k] = v;
			}
		}
		return o;
	});
}

const ops = {
	// A synthetic user-part module from BVR's own test helper.
	// Options: platformId, depVersion (5800), dataSize (1024), moduleStartAddress,
	// productId/productVersion (0xffff), func/index/version of the dependency.
	mkapp(req) {
		const bin = firmwareTestHelper.createFirmwareBinary({
			platformId: req.platformId,
			productId: req.productId ?? 0xffff,
			productVersion: req.productVersion ?? 0xffff,
			moduleStartAddress: req.moduleStartAddress ?? 0x08000000,
			dataSize: req.dataSize ?? 1024,
			moduleFunction: req.moduleFunction ?? ModuleInfo.FunctionType.USER_PART,
			deps: [{
				func: req.depFunc ?? ModuleInfo.FunctionType.SYSTEM_PART,
				index: req.depIndex ?? 1,
				version: req.depVersion ?? 5800,
			}],
		});
		return write(req.out, bin);
	},

	// A user-part module laid out like a real Device OS app: extensions in the
	// suffix (DYNAMIC_LOCATION, PRODUCT_DATA, ...) and optionally in the prefix
	// (flag 0x10), all encoded with BVR's own updateModulePrefix/Suffix.
	// Options: platformId, start, dataSize, seed, depVersion,
	// suffixExts / prefixExts: [{type:"DYNAMIC_LOCATION"|"PRODUCT_DATA"|"END"|"DEPENDENCY", ...}]
	mkapp_ext(req) {
		const T = ModuleInfo.ModuleInfoExtension;
		const toExt = (e) => {
			switch (e.type) {
				case 'DYNAMIC_LOCATION':
					return { type: T.DYNAMIC_LOCATION, moduleStartAddress: req.start,
						dynalibLoadAddress: e.dynalibLoadAddress ?? 0x1006a000,
						dynalibStartAddress: e.dynalibStartAddress ?? (req.start + 0x20) };
				case 'PRODUCT_DATA':
					return { type: T.PRODUCT_DATA, productId: e.productId ?? 0xffff, productVersion: e.productVersion ?? 0xffff };
				case 'DEPENDENCY':
					return { type: T.DEPENDENCY, moduleFunction: 4, moduleIndex: 1, moduleVersion: e.moduleVersion ?? 5800, targetId: 0 };
				case 'END':
					return { type: T.END, padding: e.padding ?? 0 };
				default:
					throw new Error(`unknown extension ${e.type}`);
			}
		};
		const suffixExts = (req.suffixExts || []).map(toExt);
		const prefixExts = (req.prefixExts || []).map(toExt);
		const flags = prefixExts.length ? ModuleInfo.Flags.PREFIX_EXTENSIONS : 0;
		const prefix = {
			moduleStartAddy: req.start,
			reserved: 0,
			moduleFlags: flags,
			moduleVersion: 1,
			platformID: req.platformId,
			moduleFunction: ModuleInfo.FunctionType.USER_PART,
			moduleIndex: 1,
			depModuleFunction: ModuleInfo.FunctionType.SYSTEM_PART,
			depModuleIndex: 1,
			depModuleVersion: req.depVersion ?? 5800,
			dep2ModuleFunction: 0,
			dep2ModuleIndex: 0,
			dep2ModuleVersion: 0,
			extensions: prefixExts,
		};
		// BVR does not export calculateModule{Prefix,Suffix}Size; these are the
		// encoded lengths of the extension kinds above (header included).
		const extLen = (e) => ({ [T.DYNAMIC_LOCATION]: 16, [T.PRODUCT_DATA]: 10, [T.DEPENDENCY]: 12 }[e.type] ?? (4 + (e.padding || 0)));
		prefix.prefixSize = ModuleInfo.MODULE_PREFIX_SIZE + prefixExts.reduce((n, e) => n + extLen(e), 0);
		const suffix = { extensions: suffixExts, productId: 0xffff, productVersion: 0xffff, reserved: 0 };
		if (!suffixExts.length) {
			delete suffix.extensions;
		}
		suffix.suffixSize = ModuleInfo.MIN_MODULE_SUFFIX_SIZE + suffixExts.reduce((n, e) => n + extLen(e), 0) +
			(suffixExts.some((e) => e.type === T.PRODUCT_DATA) ? 0 : 4);
		const dataSize = req.dataSize ?? 2048;
		const buf = Buffer.alloc(prefix.prefixSize + dataSize + suffix.suffixSize + 4, 0xff);
		seeded(Math.floor(dataSize / 2), req.seed ?? 1).copy(buf, prefix.prefixSize);
		prefix.moduleEndAddy = req.start + buf.length - 4;
		moduleEncoding.updateModulePrefix(buf, prefix);
		moduleEncoding.updateModuleSuffix(buf, suffix);
		moduleEncoding.updateModuleSha256(buf);
		moduleEncoding.updateModuleCrc32(buf);
		return write(req.out, buf);
	},

	// Deterministic bytes for a corpus file.
	seeded(req) {
		return write(req.out, seeded(req.len, req.seed));
	},

	// updateModuleAssetDependencies(app, assets): the app particle-cli puts in a bundle.
	async deps(req) {
		const app = fs.readFileSync(req.app);
		const out = await bvr.updateModuleAssetDependencies(app, readAssets(req.assets));
		return write(req.out, out);
	},

	// removeModuleExtensions(ASSET_DEPENDENCY): what `particle binary strip-assets` writes.
	async strip(req) {
		const app = fs.readFileSync(req.app);
		const out = await moduleEncoding.removeModuleExtensions({
			module: app,
			exts: [ModuleInfo.ModuleInfoExtension.ASSET_DEPENDENCY], // type numbers, as particle-cli passes them
		});
		return write(req.out, out);
	},

	// createAssetModule(data, name): the module the device stores.
	async module(req) {
		const data = fs.readFileSync(req.path);
		const options = {};
		if (req.compress !== undefined) {
			options.compress = req.compress;
		}
		const out = await bvr.createAssetModule(data, req.name, options);
		return write(req.out, out);
	},

	// unwrapAssetModule(module): the raw asset back.
	async unwrap(req) {
		const out = await bvr.unwrapAssetModule(fs.readFileSync(req.path));
		return write(req.out, out);
	},

	// validateAssetLimits(app, assets): the budget particle-cli enforces.
	async limits(req) {
		const app = fs.readFileSync(req.app);
		const assets = readAssets(req.assets);
		try {
			const details = await bvr.validateAssetLimits({ name: 'app.bin', data: app }, assets);
			return { ok: true, details: plainDetails(details), errors: [] };
		} catch (e) {
			if (!e.details) {
				throw e;
			}
			return {
				ok: false,
				thrown: e.message,
				details: plainDetails(e.details),
				errors: e.details.errors.map((x) => x.message),
			};
		}
	},

	// createApplicationAndAssetBundle: the zip `particle bundle` writes.
	async bundle(req) {
		const app = { name: path.basename(req.app), data: fs.readFileSync(req.app) };
		const out = await bvr.createApplicationAndAssetBundle(app, readAssets(req.assets));
		return write(req.out, out);
	},

	// unpackApplicationAndAssetBundle: how the Particle tools read a bundle.
	async unpack(req) {
		const r = await bvr.unpackApplicationAndAssetBundle(fs.readFileSync(req.path));
		return {
			application: r.application && {
				name: r.application.name, size: r.application.data.length, sha256: sha256(r.application.data),
			},
			assets: r.assets.map((a) => ({ name: a.name, size: a.data.length, sha256: sha256(a.data) })),
		};
	},

	// HalModuleParser.parseBuffer: everything BVR reads from a module.
	async parse(req) {
		const parser = new HalModuleParser();
		const info = await parser.parseBuffer({ fileBuffer: fs.readFileSync(req.path) });
		const prefix = Object.assign({}, info.prefixInfo, { extensions: plainExtensions(info.prefixInfo.extensions) });
		const suffix = Object.assign({}, info.suffixInfo, { extensions: plainExtensions(info.suffixInfo.extensions) });
		return { crc: info.crc, prefix, suffix, assets: info.assets || [] };
	},

	// isAssetValid(raw, {hashType, hash}).
	valid(req) {
		return { valid: bvr.isAssetValid(fs.readFileSync(req.path), { hashType: req.hashType ?? 0, hash: req.hash }) };
	},

	// Node's zlib.deflateRawSync with Particle's settings (Node defaults:
	// level 6, windowBits 15, memLevel 8) on many files; the output bytes are
	// written to `<outDir>/<i>` when outDir is given.
	deflate(req) {
		return req.paths.map((p, i) => {
			const data = fs.readFileSync(p);
			const out = zlib.deflateRawSync(data, req.options || {});
			if (req.outDir) {
				write(path.join(req.outDir, String(i)), out);
			}
			return { path: p, size: data.length, compressed: out.length, sha256: sha256(out) };
		});
	},

	// zlib.inflateRawSync: the raw bytes of a deflate stream.
	inflate(req) {
		return write(req.out, zlib.inflateRawSync(fs.readFileSync(req.path)));
	},
};

function plainDetails(d) {
	return {
		maxSingleAssetSize: d.maxSingleAssetSize,
		maxTotalAssetSize: d.maxTotalAssetSize,
		totalAssetSize: d.totalAssetSize,
		assets: d.assets,
	};
}

async function main() {
	const input = fs.readFileSync(0, 'utf8');
	const request = JSON.parse(input);
	const results = [];
	for (const req of request.ops) {
		const fn = ops[req.op];
		if (!fn) {
			results.push({ error: `unknown op ${req.op}`, name: 'UsageError' });
			continue;
		}
		try {
			results.push(await fn(req));
		} catch (e) {
			results.push({ error: e.message, name: e.name || e.constructor.name });
		}
	}
	const versions = {
		node: process.versions.node,
		zlib: process.versions.zlib,
		'binary-version-reader': require('binary-version-reader/package.json').version,
		'@particle/device-constants': require('@particle/device-constants/package.json').version,
	};
	process.stdout.write(JSON.stringify({ versions, results }));
}

main().catch((e) => {
	process.stderr.write(`${e.stack || e}\n`);
	process.exit(1);
});
