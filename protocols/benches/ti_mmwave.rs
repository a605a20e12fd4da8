fn main() {} // criterion bench for ti_mmwave: being written
