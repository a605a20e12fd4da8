fn main() {} // criterion bench for csi: being written
