//! `dagr decode --format esp-csi` on rows of both esp-csi layouts.

use serde_json::Value;

use crate::support::{dagr, scratch_file};

fn dagr_on(bytes: &[u8], args: &[&str]) -> std::process::Output {
    let (_dir, path) = scratch_file(&format!("esp-csi-{}", bytes.len()), "in.csv", bytes);
    dagr()
        .args(["decode", "--format", "esp-csi", path.to_str().unwrap()])
        .args(args)
        .output()
        .expect("run dagr")
}

const CAPTURE: &[u8] = b"type,id,mac,rssi,rate,sig_mode,mcs,bandwidth,smoothing,not_sounding,aggregation,stbc,fec_coding,sgi,noise_floor,ampdu_cnt,channel,secondary_channel,local_timestamp,ant,sig_len,rx_state,len,first_word,data\n\
I (812) csi_recv: ================ CSI RECV ================\n\
CSI_DATA,7,1a:00:00:00:00:00,-41,11,1,0,1,1,1,0,0,0,0,-95,0,11,2,1234567,0,36,0,6,1,\"[4,-3,0,0,12,-7]\"\n\
CSI_DATA,8,1a:00:00:00:00:00,-42,11,-96,12,30,11,-5,36,0,4,0,\"[1,2,-3,-4]\"\n";

#[test]
fn json_lines_carry_the_fixed_fields_for_both_layouts() {
    let out = dagr_on(CAPTURE, &["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["mac"], "1A:00:00:00:00:00");
    assert_eq!(rows[0]["rssi"], -41);
    assert_eq!(rows[0]["local_timestamp"], 1234567);
    assert_eq!(
        rows[0]["csi"],
        serde_json::json!([[-3, 4], [0, 0], [-7, 12]])
    );
    assert_eq!(rows[0]["first_word_invalid"], true);
    assert_eq!(
        rows[1]["local_timestamp"], 4294967291u32,
        "%d-printed u32 wraps back"
    );
    assert_eq!(rows[1]["fft_gain"], 12);
    assert_eq!(rows[1]["csi"], serde_json::json!([[2, 1], [-4, -3]]));
}

#[test]
fn bad_rows_fail_with_a_clear_message() {
    let out = dagr_on(b"CSI_DATA,1,1a:00:00:00:00:00,-50,11,5,\"[1,-3]\"\n", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("column count"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
