fn main() {} // criterion bench for llrp: being written
