// Emberwatch LoRaWAN payload formatter (codec version 1) for ChirpStack v4 and The Things Stack v3.
// Paste this whole file as the device profile's JavaScript codec (ChirpStack) or the end device's
// uplink and downlink formatter (The Things Stack). Same layout as edge_node/core/uplink_codec.py;
// tests/core/test_uplink_codec_js.py runs both against tests/core/data/uplink_vectors.json.
// decodeUplink returns integers in the project's fixed-point units (temp_cc = centi-degC,
// rh_cp = centi-%RH, gas_q8 = gas index x 256, ratio_q8 = score / threshold x 256), null for a
// reading the node marked faulty.

var EMBERWATCH_FPORT = 10;
var THRESHOLD_RANGE = [1, 65535];
var SAMPLE_INTERVAL_RANGE_S = [10, 86400];
var HEARTBEAT_INTERVAL_RANGE_S = [60, 604800];

function ewReader(bytes) {
  var pos = 0;
  return {
    get: function (bits) {
      var value = 0;
      for (var i = 0; i < bits; i++) {
        var bit = (bytes[pos >> 3] >> (7 - (pos & 7))) & 1;
        value = value * 2 + bit;
        pos++;
      }
      return value;
    },
    signed: function (bits) {
      var value = this.get(bits);
      return value >= Math.pow(2, bits - 1) ? value - Math.pow(2, bits) : value;
    }
  };
}

function ewAgeSeconds(code) {
  if (code < 60) return code;
  if (code < 120) return (code - 59) * 60;
  return (code - 118) * 3600;
}

function ewReadings(r, out) {
  var temp = r.get(10), rh = r.get(7), gas = r.signed(10);
  out.temp_cc = temp === 1023 ? null : temp * 20 - 4000;
  out.rh_cp = rh === 127 || rh > 100 ? null : rh * 100;
  out.gas_q8 = gas === -512 ? null : gas * 16;
}

function ewDecode(bytes) {
  if (bytes.length !== 11) throw new Error("frame must be 11 bytes, got " + bytes.length);
  var r = ewReader(bytes);
  var version = r.get(2), kind = r.get(2), low4 = r.get(4), out;
  if (version !== 1) throw new Error("codec version " + version + " not supported");
  if (kind === 0) {
    out = {k: "alert", lvl: low4 & 8 ? 2 : 1, boot3: low4 & 7, seq16: r.get(16), age_s: ewAgeSeconds(r.get(8)),
           ratio_q8: r.get(16)};
    ewReadings(r, out);
    out.bat_mv = 1800 + 20 * r.get(7);
    out.flt = r.get(6);
    return out;
  }
  if (kind === 1) {
    out = {k: "heartbeat", boot3: (low4 >> 1) & 7, seq16: r.get(16), age_s: ewAgeSeconds(r.get(8)),
           bat_mv: 1800 + 20 * r.get(7)};
    var pct = r.get(7);
    out.bat_pct = pct > 100 ? null : pct;
    out.queued = r.get(4);
    out.flt = r.get(6);
    ewReadings(r, out);
    return out;
  }
  if (kind === 2) {
    return {k: "status", reason: low4, boot24: r.get(24), thr: r.get(16), sample_interval_s: r.get(17),
            heartbeat_interval_s: r.get(20)};
  }
  throw new Error("unknown frame kind " + kind);
}

function decodeUplink(input) {
  try {
    return {data: ewDecode(input.bytes)};
  } catch (e) {
    return {errors: [e.message]};
  }
}

function ewEncodeConfig(data) {
  var fields = [["thr", 8, THRESHOLD_RANGE, 2], ["sample_interval_s", 4, SAMPLE_INTERVAL_RANGE_S, 3],
                ["heartbeat_interval_s", 2, HEARTBEAT_INTERVAL_RANGE_S, 3]];
  var flags = 0, body = [];
  for (var i = 0; i < fields.length; i++) {
    var name = fields[i][0], value = data[name];
    if (value === undefined || value === null) continue;
    var bounds = fields[i][2];
    if (typeof value !== "number" || Math.floor(value) !== value || value < bounds[0] || value > bounds[1]) {
      throw new Error((name === "thr" ? "threshold" : name) + " must be an integer in " + bounds[0] + ".." + bounds[1]);
    }
    flags |= fields[i][1];
    for (var shift = 8 * (fields[i][3] - 1); shift >= 0; shift -= 8) body.push((value >> shift) & 0xff);
  }
  if (data.ask_status) flags |= 1;
  if (!flags) throw new Error("a config downlink needs at least one setting");
  return [(1 << 6) | flags].concat(body);
}

function encodeDownlink(input) {
  try {
    return {bytes: ewEncodeConfig(input.data), fPort: EMBERWATCH_FPORT};
  } catch (e) {
    return {errors: [e.message]};
  }
}

if (typeof module !== "undefined") {
  module.exports = {decodeUplink: decodeUplink, encodeDownlink: encodeDownlink};
}
