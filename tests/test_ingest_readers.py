"""Every flow reader on small files written here: mapping, detection, bad records, counts."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seclearn.errors import EncodingError, IngestError
from seclearn.ingest import FORMATS, detect_format, iter_flows, read_flows
from seclearn.schema import FLOW_SCHEMA, validate_frame


def kdd(duration, proto, service, flag, sbytes, dbytes, label, difficulty=None) -> str:
    fields = [duration, proto, service, flag, sbytes, dbytes] + ["0"] * 16 + ["2", "2"]
    fields += ["0.00"] * 7 + ["150", "25"] + ["0.17"] * 8 + [label]
    return ",".join(map(str, fields + ([difficulty] if difficulty is not None else []))) + "\n"


UNSW_HEADER = (
    "id,dur,proto,service,state,spkts,dpkts,sbytes,dbytes,rate,sttl,dttl,sload,dload,sloss,dloss,"
    "sinpkt,dinpkt,sjit,djit,swin,stcpb,dtcpb,dwin,tcprtt,synack,ackdat,smean,dmean,trans_depth,"
    "response_body_len,ct_srv_src,ct_state_ttl,ct_dst_ltm,ct_src_dport_ltm,ct_dst_sport_ltm,"
    "ct_dst_src_ltm,is_ftp_login,ct_ftp_cmd,ct_flw_http_mthd,ct_src_ltm,ct_srv_dst,"
    "is_sm_ips_ports,attack_cat,label"
)


def unsw(i, proto, service, state, cat, label) -> str:
    return f"{i},0.5,{proto},{service},{state},4,2,400,120," + "1," * 34 + f"{cat},{label}\r\n"


def unsw_raw(sport, cat, label) -> str:
    return (
        f"59.166.0.0,{sport},149.171.126.6,53,udp,CON,0.001,132,164,31,29,0,0,dns,500473.9,621800.9,"
        f"2,2,0,0,0,0,66,82,0,0,0,0,1421927414,1421927414,0.017,0.013,0,0,0,0,0,0,0, ,3,7,1,3,1,1,1,"
        f"{cat},{label}\n"
    )


RAW_SAMPLE_HEADER = (
    "proto,state,dur,sbytes,dbytes,sttl,dttl,sloss,dloss,service,Sload,Dload,Spkts,Dpkts,swin,dwin,"
    "stcpb,dtcpb,smeansz,dmeansz,trans_depth,res_bdy_len,Sjit,Djit,Stime,Ltime,Sintpkt,Dintpkt,"
    "tcprtt,synack,ackdat,is_sm_ips_ports,ct_state_ttl,ct_flw_http_mthd,is_ftp_login,ct_ftp_cmd,"
    "ct_srv_src,ct_srv_dst,ct_dst_ltm,'ct_src_ ltm',ct_src_dport_ltm,ct_dst_sport_ltm,ct_dst_src_ltm,"
    "label\n"
)
RAW_SAMPLE_ROW = "tcp,FIN,0.1,4550,70026,31,29,7,33,{svc},3630,5590,78,82,255,255,4522,4524,58,854,0,0,78.7,78.2,1421951772,1421951773,1.28,1.2,0.001,0.001,0.0001,0,0,0,0,0,14,4,5,5,1,1,2,{label}\n"

CIC17_HEADER = (
    "Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp,"
    " Flow Duration, Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets,"
    " Total Length of Bwd Packets,Flow Bytes/s, Flow Packets/s, Label\r\n"
)


def cic17(port, proto, ts, dur, rate, label) -> str:
    return f"10.0.0.1-10.0.0.2-{port}-80-{proto},10.0.0.1,{port},10.0.0.2,80,{proto},{ts},{dur},3,2,120,300,{rate},5.5,{label}\r\n"


CIC18_HEADER = "Dst Port,Protocol,Timestamp,Flow Duration,Tot Fwd Pkts,Tot Bwd Pkts,TotLen Fwd Pkts,TotLen Bwd Pkts,Flow Byts/s,Fwd Pkt Len Max,Label\n"
ZEEK_FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
]
ZEEK_TYPES = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "enum",
    "string",
    "interval",
    "count",
    "count",
    "string",
    "bool",
    "bool",
    "count",
    "string",
    "count",
    "count",
    "count",
    "count",
    "set[string]",
]


def zeek_header(fields, types, gap="\t") -> str:
    t = "\t"
    head = "\t".join(fields[:-2]) + t + gap.join(fields[-2:]) if gap != t else t.join(fields)
    kinds = "\t".join(types[:-2]) + t + gap.join(types[-2:]) if gap != t else t.join(types)
    return (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
        f"#open\t2018-10-02-11-12-43\n#fields\t{head}\n#types\t{kinds}\n"
    )


def zeek_row(i, dur="3.1", state="SF", local="T", tunnel="(empty)", sep="\t") -> str:
    return sep.join(
        [f"15384787{i:02d}.613303", f"CiNjDI1aGNd{i}", "192.168.100.111", "37446", "200.168.87.203",
         "80", "tcp", "http", dur, "100", "2000", state, local, "-", "0", "ShADadfF", "3", "180",
         "4", "2160", tunnel]
    )  # fmt: skip


ZEEK_CSV_HEADER = ",".join([*ZEEK_FIELDS, "label", "detailed-label"]) + "\n"


@dataclass(frozen=True)
class Sample:
    text: bytes
    records: int  # data lines
    labels: dict  # label value -> count (NA as -1)
    bad_line: bytes  # a record with the wrong number of fields (or not JSON)
    rejected: int = 0  # repeated header lines among the records


SAMPLES: dict[str, Sample] = {
    "nsl-kdd": Sample(
        (kdd(0, "tcp", "ftp_data", "SF", 491, 0, "normal", 20) + kdd(0, "tcp", "private", "S0", 0, 0, "neptune", 19)
         + kdd(13, "tcp", "telnet", "SF", 118, 2425, "guess_passwd", 2) + kdd(0, "udp", "snmp", "SF", 1, 0, "worm", 1)).encode(),
        4, {0: 1, 1: 3}, b"0,tcp,http,SF,1,2,normal\n",
    ),
    "unsw-nb15": Sample(
        ("\ufeff" + UNSW_HEADER + "\r\n" + unsw(1, "udp", "-", "INT", "Normal", 0) + unsw(2, "tcp", "http", "FIN", " Exploits ", 1)
         + unsw(3, "tcp", "-", "FIN", "Backdoors", 1)).encode(),
        3, {0: 1, 1: 2}, b"4,0.5,tcp,-,FIN,Normal,0\r\n",
    ),
    "unsw-nb15-raw": Sample(
        (unsw_raw(1390, "", 0) + unsw_raw("0x000b", " Fuzzers ", 1) + unsw_raw("-", "Backdoors", 1)).encode(),
        3, {0: 1, 1: 2}, b"59.166.0.0,1390,149.171.126.6,53,udp\n",
    ),
    "cicflowmeter": Sample(
        (CIC17_HEADER + cic17(5000, 6, "3/7/2017 8:55", 1_500_000, "Infinity", "BENIGN")
         + cic17(5001, 17, "03/07/2017 08:55:58 AM", 20, "NaN", "DDoS") + CIC17_HEADER
         + cic17(5002, 6, "181", 7, "12.5", "Web Attack – Brute Force")).encode(),
        4, {0: 1, 1: 2}, b"1,2,3\r\n", rejected=1,
    ),
    "zeek-tsv": Sample(
        (zeek_header(ZEEK_FIELDS, ZEEK_TYPES) + zeek_row(1) + "\n" + zeek_row(2, dur="-", state="S0", local="F") + "\n"
         + "#close\t2018-10-03-11-12-43\n").encode(),
        2, {-1: 2}, b"1538478763.6\tCx\t1.2.3.4\n",
    ),
    "zeek-json": Sample(
        b'{"ts":1538478763.613303,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":5000,"id.resp_h":"10.0.0.2","id.resp_p":80,"proto":"tcp","duration":1.5,"orig_bytes":10,"tunnel_parents":["Cx","Cy"],"label":"Malicious","detailed-label":"C&C"}\n'
        b'{"ts":"2018-10-02T11:12:43.5Z","uid":"C2","id":{"orig_h":"10.0.0.3","orig_p":5001,"resp_h":"10.0.0.2","resp_p":53},"proto":"udp","service":"dns","local_orig":true,"label":"benign","detailed-label":"-"}\n',
        2, {1: 1, 0: 1}, b'{"ts": 1, "uid": \n',
    ),
    "zeek-csv": Sample(
        (ZEEK_CSV_HEADER + zeek_row(1, sep=",") + ",Malicious,PartOfAHorizontalPortScan\n"
         + zeek_row(2, dur="", tunnel="", sep=",") + ",Benign,-\n" + zeek_row(3, sep=",") + ",benign,\n").encode(),
        3, {1: 1, 0: 2}, b"1538478763.6,Cx,1.2.3.4\n",
    ),
}  # fmt: skip
FLOW_FORMATS = list(SAMPLES)


def write(tmp_path: Path, name: str, data: bytes, *, gz: bool = False) -> Path:
    path = tmp_path / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def label_counts(frame: pd.DataFrame) -> dict:
    return frame["label"].fillna(-1).astype(int).value_counts().to_dict()


def assert_adds_up(result, records: int) -> None:
    s = result.stats
    assert s.accepted + s.quarantined + s.rejected == records
    assert s.accepted == len(result.frame)


def test_every_format_has_a_sample_or_a_table_test():
    assert set(FORMATS) - set(SAMPLES) == {"table"}


@pytest.mark.parametrize("fmt", FLOW_FORMATS)
@pytest.mark.parametrize("gz", [False, True])
def test_reader_reads_sample_into_valid_flow_frame(tmp_path, fmt, gz):
    sample = SAMPLES[fmt]
    result = read_flows(write(tmp_path, "input", sample.text, gz=gz), format=fmt)
    assert_adds_up(result, sample.records)
    assert label_counts(result.frame) == sample.labels
    assert result.format == fmt and result.reader and result.reader_version
    pd.testing.assert_frame_equal(validate_frame(result.frame, FLOW_SCHEMA), result.frame)
    assert {"label", "attack_type"} <= set(result.frame.columns)


@pytest.mark.parametrize("fmt", FLOW_FORMATS)
def test_format_is_detected_from_content_not_name(tmp_path, fmt):
    assert detect_format(write(tmp_path, "data.txt", SAMPLES[fmt].text)) == fmt
    assert detect_format(write(tmp_path, "data.bin", SAMPLES[fmt].text, gz=True)) == fmt


def test_detection_failure_names_known_formats_and_the_option(tmp_path):
    path = write(tmp_path, "x.csv", b"a,b,c\n1,2,3\n")
    with pytest.raises(IngestError, match=r"cicflowmeter.*--format"):
        detect_format(path)


def test_nsl_kdd_maps_labels_categories_and_difficulty(tmp_path):
    frame = read_flows(write(tmp_path, "kdd", SAMPLES["nsl-kdd"].text)).frame
    assert frame["attack_type"].tolist() == ["benign", "neptune", "guess_passwd", "worm"]
    assert frame["meta_attack_category"].tolist() == ["benign", "DoS", "R2L", "unknown"]
    assert frame["meta_difficulty"].tolist() == [20, 19, 2, 1]
    assert frame.loc[2, "duration_s"] == 13 and frame.loc[0, "proto"] == "tcp"
    assert frame.loc[1, "conn_state"] == "S0"


def test_kdd99_without_difficulty_strips_trailing_dot(tmp_path):
    text = kdd(0, "icmp", "ecr_i", "SF", 1032, 0, "smurf.") + kdd(
        0, "tcp", "http", "SF", 215, 45076, "normal."
    )
    frame = read_flows(write(tmp_path, "kdd99", text.encode()), format="nsl-kdd").frame
    assert frame["attack_type"].tolist() == ["smurf", "benign"]
    assert frame["label"].tolist() == [1, 0] and "meta_difficulty" not in frame


def test_unsw_partition_strips_categories_and_hides_id(tmp_path):
    frame = read_flows(write(tmp_path, "unsw", SAMPLES["unsw-nb15"].text)).frame
    assert frame["attack_type"].tolist() == ["benign", "Exploits", "Backdoor"]
    assert frame["meta_id"].tolist() == [1, 2, 3] and "id" not in frame
    assert frame["service"].isna().tolist() == [True, False, True]
    assert {"src_pkts", "dst_bytes", "duration_s", "conn_state"} <= set(frame.columns)


def test_unsw_raw_layout_harmonises_names_ports_and_categories(tmp_path):
    frame = read_flows(write(tmp_path, "raw", SAMPLES["unsw-nb15-raw"].text)).frame
    assert frame["attack_type"].tolist() == ["benign", "Fuzzers", "Backdoor"]
    assert frame["src_port"].tolist()[:2] == [1390, 11] and frame["src_port"].isna().iloc[2]
    assert {"sinpkt", "smean", "response_body_len", "sload", "ts", "meta_ltime"} <= set(
        frame.columns
    )
    assert frame["ts"].iloc[0] == 1421927414


def test_unsw_headered_raw_sample_reads_benign_malicious_labels(tmp_path):
    text = (
        RAW_SAMPLE_HEADER
        + RAW_SAMPLE_ROW.format(svc="", label="Benign")
        + RAW_SAMPLE_ROW.format(svc="dns", label="Malicious")
    )
    result = read_flows(write(tmp_path, "sample", text.encode()))
    assert result.format == "unsw-nb15-raw"
    assert result.frame["label"].tolist() == [0, 1]
    assert result.frame["attack_type"].tolist() == ["benign", "malicious"]
    assert "ct_src_ltm" in result.frame and "smean" in result.frame


def test_cicflowmeter_units_protocols_times_and_rejected_header(tmp_path):
    result = read_flows(write(tmp_path, "cic", SAMPLES["cicflowmeter"].text))
    frame = result.frame
    assert result.stats.rejected_reasons == {"repeated header line": 1}
    assert frame["duration_s"].tolist() == [1.5, 20e-6, 7e-6]
    assert frame["proto"].tolist() == ["tcp", "udp", "tcp"]
    assert frame["ts"].iloc[0] == pd.Timestamp("2017-07-03 08:55", tz="UTC").timestamp()
    assert frame["ts"].iloc[1] == pd.Timestamp("2017-07-03 08:55:58", tz="UTC").timestamp()
    assert pd.isna(frame["ts"].iloc[2])  # an integer code, not a date
    assert frame["flow_bytes_s"].isna().tolist() == [True, True, False]
    assert frame["attack_type"].tolist() == ["benign", "DDoS", "Web Attack – Brute Force"]
    assert frame["meta_flow_id"].iloc[0].startswith("10.0.0.1-") and frame["dst_port"].iloc[0] == 80


def test_cicflowmeter_cp1252_label_bytes_decode_to_en_dash(tmp_path):
    text = CIC17_HEADER.encode() + cic17(1, 6, "x", 1, 1, "LABEL").encode().replace(
        b"LABEL", b"Web Attack \x96 XSS"
    )
    result = read_flows(write(tmp_path, "cic", text), format="cicflowmeter")
    assert result.frame["attack_type"].tolist() == ["Web Attack – XSS"]
    assert result.stats.quarantined == 0


def test_cicids2018_names_map_to_2017_names(tmp_path):
    row = "443,6,02/03/2018 08:47:38,2000000,4,3,100,200,150.0,60,Benign\n"
    text = CIC18_HEADER + row + CIC18_HEADER + row.replace("Benign", "FTP-BruteForce")
    result = read_flows(write(tmp_path, "cic18", text.encode()))
    frame = result.frame
    assert result.format == "cicflowmeter" and result.stats.rejected == 1
    assert {
        "dst_port",
        "src_pkts",
        "dst_pkts",
        "src_bytes",
        "dst_bytes",
        "flow_bytes_s",
        "fwd_packet_length_max",
    } <= set(frame)
    assert frame["ts"].iloc[0] == pd.Timestamp("2018-03-02 08:47:38", tz="UTC").timestamp()
    assert frame["duration_s"].iloc[0] == 2.0 and frame["label"].tolist() == [0, 1]


def test_zeek_tsv_unset_empty_and_bool_fields(tmp_path):
    frame = read_flows(write(tmp_path, "conn.log", SAMPLES["zeek-tsv"].text)).frame
    assert frame["src_ip"].iloc[0] == "192.168.100.111" and frame["dst_port"].iloc[0] == 80
    assert pd.isna(frame["duration_s"].iloc[1]) and frame["duration_s"].iloc[0] == 3.1
    assert frame["tunnel_parents"].tolist() == ["", ""]
    assert frame["local_orig"].tolist() == [True, False] and frame["local_resp"].isna().all()
    assert {"uid", "history", "missed_bytes", "orig_ip_bytes", "resp_ip_bytes"} <= set(frame)
    assert frame["label"].isna().all()


def test_zeek_tsv_iot23_three_space_fields_and_simulator_labels(tmp_path):
    fields, types = [*ZEEK_FIELDS, "label", "detailed-label"], [*ZEEK_TYPES, "string", "string"]
    for gap in ("   ", "\t"):
        text = zeek_header(fields, types, gap=gap) + zeek_row(1) + f"{gap}Malicious{gap}C&C-Torii\n"
        text += (
            zeek_row(2, tunnel="-")
            + f"{gap}Benign{gap}-\n"
            + zeek_row(3)
            + f"{gap}Malicious{gap}-\n"
        )
        result = read_flows(write(tmp_path, "conn.log.labeled", text.encode()))
        assert result.stats.quarantined == 0
        assert result.frame["label"].tolist() == [1, 0, 1]
        assert result.frame["attack_type"].tolist() == ["C&C-Torii", "benign", "malicious"]
        assert "detailed_label" not in result.frame


def test_zeek_tsv_header_repeated_mid_file_switches_fields(tmp_path):
    text = (
        SAMPLES["zeek-tsv"].text
        + zeek_header(["ts", "uid", "id.orig_h"], ["time", "string", "addr"]).encode()
    )
    text += b"1538478799.5\tCz\t10.1.1.1\n"
    result = read_flows(write(tmp_path, "cat.log", text), format="zeek-tsv")
    assert len(result.frame) == 3 and result.stats.quarantined == 0
    assert result.frame["src_ip"].tolist()[-1] == "10.1.1.1"


def test_zeek_json_times_nesting_and_lists(tmp_path):
    frame = read_flows(write(tmp_path, "conn.json", SAMPLES["zeek-json"].text)).frame
    assert frame["ts"].iloc[1] == pd.Timestamp("2018-10-02T11:12:43.5Z").timestamp()
    assert frame["src_ip"].tolist() == ["10.0.0.1", "10.0.0.3"] and frame["dst_port"].tolist() == [
        80,
        53,
    ]
    assert frame["tunnel_parents"].iloc[0] == "Cx,Cy" and frame["local_orig"].iloc[1]
    assert frame["attack_type"].tolist() == ["C&C", "benign"]


def test_zeek_json_non_numeric_count_is_quarantined(tmp_path):
    text = (
        SAMPLES["zeek-json"].text
        + b'{"ts":1.0,"uid":"C3","orig_bytes":"lots"}\n[1,2]\n{"ts":"yesterday"}\n'
    )
    result = read_flows(write(tmp_path, "conn.json", text), format="zeek-json")
    assert [q.line for q in result.stats.quarantine] == [3, 4, 5]
    assert "orig_bytes" in result.stats.quarantine[0].reason
    assert_adds_up(result, 5)


def test_zeek_csv_empty_means_missing(tmp_path):
    frame = read_flows(write(tmp_path, "iot23.csv", SAMPLES["zeek-csv"].text)).frame
    assert pd.isna(frame["duration_s"].iloc[1]) and frame["tunnel_parents"].iloc[0] == ""
    assert pd.isna(frame["tunnel_parents"].iloc[1])
    assert frame["attack_type"].tolist() == ["PartOfAHorizontalPortScan", "benign", "benign"]


# -- malformed input, for every reader ------------------------------------------------------
def _insert_before_last(text: bytes, extra: bytes) -> bytes:
    body = text.rstrip(b"\n")
    cut = body.rfind(b"\n") + 1
    return body[:cut] + extra + body[cut:] + b"\n"


@pytest.mark.parametrize("fmt", FLOW_FORMATS)
def test_truncated_last_line_is_quarantined_rest_read(tmp_path, fmt):
    sample = SAMPLES[fmt]
    text = sample.text.rstrip(b"\r\n")
    if fmt == "zeek-tsv":
        text = text[: text.rfind(b"\n#close")]
    cut = text.rfind(b"\n") + 1
    truncated = text[: cut + (len(text) - cut) // 2]
    result = read_flows(write(tmp_path, "t", truncated), format=fmt)
    assert result.stats.quarantined == 1
    assert result.stats.quarantine[0].line == truncated.count(b"\n") + 1
    assert_adds_up(result, sample.records)


@pytest.mark.parametrize("fmt", FLOW_FORMATS)
def test_wrong_field_counts_are_quarantined_with_line_and_reason(tmp_path, fmt):
    sample = SAMPLES[fmt]
    text = _insert_before_last(sample.text, sample.bad_line + b"\n" + sample.bad_line)
    if fmt == "zeek-tsv":  # the last line is '#close'; insert before the last record instead
        text = sample.text.replace(
            b"\n1538478702", b"\n" + sample.bad_line + b"\n" + sample.bad_line + b"\n1538478702"
        )
    result = read_flows(write(tmp_path, "w", text), format=fmt)
    assert result.stats.quarantined == 2
    first = result.stats.quarantine[0]
    assert text.split(b"\n")[first.line - 1].rstrip(b"\r") == sample.bad_line.rstrip(b"\r\n")
    assert ("field count" in first.reason) or ("JSON" in first.reason)
    assert_adds_up(result, sample.records + 2)


@pytest.mark.parametrize("fmt", FLOW_FORMATS)
def test_binary_garbage_and_latin1_lines_are_quarantined_or_decoded(tmp_path, fmt):
    sample = SAMPLES[fmt]
    garbage = b"\x00\xff\xfe\x80\x1b[31m\x01\x02binary\xc3"
    text = _insert_before_last(sample.text, garbage + b"\n" + b"caf\xe9,\xe9\xe8\n")
    result = read_flows(write(tmp_path, "g", text), format=fmt)
    assert result.stats.quarantined == 2
    assert all("\x1b" not in q.raw and "\x00" not in q.raw for q in result.stats.quarantine)
    assert_adds_up(result, sample.records + 2)


@pytest.mark.parametrize("fmt", FLOW_FORMATS)
def test_utf16_file_raises_encoding_error(tmp_path, fmt):
    text = SAMPLES[fmt].text.decode("utf-8-sig").encode("utf-16")
    with pytest.raises(EncodingError, match="UTF-8"):
        read_flows(write(tmp_path, "u16", text), format=fmt)


@pytest.mark.parametrize("fmt", FLOW_FORMATS)
def test_chunks_add_up_to_the_whole_file(tmp_path, fmt):
    sample = SAMPLES[fmt]
    path = write(tmp_path, "c", _insert_before_last(sample.text, sample.bad_line))
    chunks = list(iter_flows(path, format=fmt, chunk_rows=1))
    assert all(len(c.frame) <= 1 for c in chunks)
    assert sum(c.stats.accepted for c in chunks) == sample.records - sample.rejected
    assert sum(c.stats.quarantined for c in chunks) == 1
    whole = read_flows(path, format=fmt).frame
    assert len(pd.concat([c.frame for c in chunks])) == len(whole)


def _records(fmt: str, data: bytes) -> int:
    lines = [ln for ln in data.split(b"\n") if ln.strip()]
    if fmt == "zeek-tsv":
        return sum(1 for ln in lines if not ln.startswith(b"#"))
    return len(lines) - (fmt in ("unsw-nb15", "cicflowmeter", "zeek-csv"))


@pytest.mark.parametrize("fmt", FLOW_FORMATS)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tail=st.binary(max_size=300))
def test_random_bytes_appended_raise_only_ingest_errors(tmp_path, fmt, tail):
    sample = SAMPLES[fmt]
    data = sample.text + tail
    path = write(tmp_path, "h", data)
    try:
        result = read_flows(path, format=fmt)
    except IngestError:
        return
    assert result.stats.accepted >= sample.records - sample.rejected
    assert result.stats.accepted + result.stats.quarantined + result.stats.rejected == _records(
        fmt, data
    )
