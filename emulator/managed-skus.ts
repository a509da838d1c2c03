// The instance types Azure ML managed online endpoints take: Azure's managed online endpoint SKU list
// (azure-ai-docs `reference-managed-online-endpoints-vm-sku-list.md`, ms.date 2025-10-18; 85 SKUs in 19
// families, shared/reference/azure-ml-cli-assets.md §6), with cores, GPUs and a Linux pay-as-you-go hourly
// price in East US for the emulator's Retail Prices API.
//
// PRICES, AND WHERE THEY COME FROM: "ref" rows are the figures in shared/reference/azure-ml-online-endpoints.md
// §6.1 (third-party snapshots of the Retail Prices API, 2024–2025). "list" rows are Azure's published
// pay-as-you-go list prices for Linux in East US (azure.microsoft.com/pricing/details/virtual-machines/linux)
// as the author knew them in 2025, written down by hand and NOT fetched from the API for this table: within a
// family they scale with the vCPU count as Azure's do. Approximate; good enough to check the cost arithmetic,
// not a source of truth for money.

/** One SKU of the managed online endpoint list. */
export interface ManagedSku {
  /** The ARM name a deployment's `instanceType` uses (case-insensitive), e.g. `Standard_DS3_v2`. */
  armSkuName: string;
  /** The quota family, as Azure's SKU list names it. */
  family: string;
  cores: number;
  /** GPUs per instance (fractions for the partitioned A10 SKUs). */
  gpus: number;
  /** meterName / skuName in the Retail Prices API, e.g. `DS3 v2`. */
  meter: string;
  /** productName in the Retail Prices API, e.g. `Virtual Machines DSv2 Series`. */
  series: string;
  usdPerHourEastUsLinux: number;
  basis: 'ref' | 'list';
}

/** Azure's managed online endpoint SKU list (85 SKUs). */
export const MANAGED_SKUS: readonly ManagedSku[] = [
  { armSkuName: 'Standard_D2as_v4', family: 'standardDASv4Family', cores: 2, gpus: 0, meter: 'D2as v4', series: 'Virtual Machines DASv4 Series', usdPerHourEastUsLinux: 0.096, basis: 'list' },
  { armSkuName: 'Standard_D4as_v4', family: 'standardDASv4Family', cores: 4, gpus: 0, meter: 'D4as v4', series: 'Virtual Machines DASv4 Series', usdPerHourEastUsLinux: 0.192, basis: 'list' },
  { armSkuName: 'Standard_D8as_v4', family: 'standardDASv4Family', cores: 8, gpus: 0, meter: 'D8as v4', series: 'Virtual Machines DASv4 Series', usdPerHourEastUsLinux: 0.384, basis: 'list' },
  { armSkuName: 'Standard_D16as_v4', family: 'standardDASv4Family', cores: 16, gpus: 0, meter: 'D16as v4', series: 'Virtual Machines DASv4 Series', usdPerHourEastUsLinux: 0.768, basis: 'list' },
  { armSkuName: 'Standard_D32as_v4', family: 'standardDASv4Family', cores: 32, gpus: 0, meter: 'D32as v4', series: 'Virtual Machines DASv4 Series', usdPerHourEastUsLinux: 1.536, basis: 'list' },
  { armSkuName: 'Standard_D48as_v4', family: 'standardDASv4Family', cores: 48, gpus: 0, meter: 'D48as v4', series: 'Virtual Machines DASv4 Series', usdPerHourEastUsLinux: 2.304, basis: 'list' },
  { armSkuName: 'Standard_D64as_v4', family: 'standardDASv4Family', cores: 64, gpus: 0, meter: 'D64as v4', series: 'Virtual Machines DASv4 Series', usdPerHourEastUsLinux: 3.072, basis: 'list' },
  { armSkuName: 'Standard_D96as_v4', family: 'standardDASv4Family', cores: 96, gpus: 0, meter: 'D96as v4', series: 'Virtual Machines DASv4 Series', usdPerHourEastUsLinux: 4.608, basis: 'list' },
  { armSkuName: 'Standard_D2a_v4', family: 'standardDAv4Family', cores: 2, gpus: 0, meter: 'D2a v4', series: 'Virtual Machines DAv4 Series', usdPerHourEastUsLinux: 0.096, basis: 'list' },
  { armSkuName: 'Standard_D4a_v4', family: 'standardDAv4Family', cores: 4, gpus: 0, meter: 'D4a v4', series: 'Virtual Machines DAv4 Series', usdPerHourEastUsLinux: 0.192, basis: 'list' },
  { armSkuName: 'Standard_D8a_v4', family: 'standardDAv4Family', cores: 8, gpus: 0, meter: 'D8a v4', series: 'Virtual Machines DAv4 Series', usdPerHourEastUsLinux: 0.384, basis: 'list' },
  { armSkuName: 'Standard_D16a_v4', family: 'standardDAv4Family', cores: 16, gpus: 0, meter: 'D16a v4', series: 'Virtual Machines DAv4 Series', usdPerHourEastUsLinux: 0.768, basis: 'list' },
  { armSkuName: 'Standard_D32a_v4', family: 'standardDAv4Family', cores: 32, gpus: 0, meter: 'D32a v4', series: 'Virtual Machines DAv4 Series', usdPerHourEastUsLinux: 1.536, basis: 'list' },
  { armSkuName: 'Standard_D48a_v4', family: 'standardDAv4Family', cores: 48, gpus: 0, meter: 'D48a v4', series: 'Virtual Machines DAv4 Series', usdPerHourEastUsLinux: 2.304, basis: 'list' },
  { armSkuName: 'Standard_D64a_v4', family: 'standardDAv4Family', cores: 64, gpus: 0, meter: 'D64a v4', series: 'Virtual Machines DAv4 Series', usdPerHourEastUsLinux: 3.072, basis: 'list' },
  { armSkuName: 'Standard_D96a_v4', family: 'standardDAv4Family', cores: 96, gpus: 0, meter: 'D96a v4', series: 'Virtual Machines DAv4 Series', usdPerHourEastUsLinux: 4.608, basis: 'list' },
  { armSkuName: 'Standard_DS1_v2', family: 'standardDSv2Family', cores: 1, gpus: 0, meter: 'DS1 v2', series: 'Virtual Machines DSv2 Series', usdPerHourEastUsLinux: 0.073, basis: 'list' },
  { armSkuName: 'Standard_DS2_v2', family: 'standardDSv2Family', cores: 2, gpus: 0, meter: 'DS2 v2', series: 'Virtual Machines DSv2 Series', usdPerHourEastUsLinux: 0.146, basis: 'ref' },
  { armSkuName: 'Standard_DS3_v2', family: 'standardDSv2Family', cores: 4, gpus: 0, meter: 'DS3 v2', series: 'Virtual Machines DSv2 Series', usdPerHourEastUsLinux: 0.293, basis: 'ref' },
  { armSkuName: 'Standard_DS4_v2', family: 'standardDSv2Family', cores: 8, gpus: 0, meter: 'DS4 v2', series: 'Virtual Machines DSv2 Series', usdPerHourEastUsLinux: 0.585, basis: 'list' },
  { armSkuName: 'Standard_DS5_v2', family: 'standardDSv2Family', cores: 16, gpus: 0, meter: 'DS5 v2', series: 'Virtual Machines DSv2 Series', usdPerHourEastUsLinux: 1.17, basis: 'list' },
  { armSkuName: 'Standard_E2s_v3', family: 'standardESv3Family', cores: 2, gpus: 0, meter: 'E2s v3', series: 'Virtual Machines ESv3 Series', usdPerHourEastUsLinux: 0.126, basis: 'list' },
  { armSkuName: 'Standard_E4s_v3', family: 'standardESv3Family', cores: 4, gpus: 0, meter: 'E4s v3', series: 'Virtual Machines ESv3 Series', usdPerHourEastUsLinux: 0.252, basis: 'list' },
  { armSkuName: 'Standard_E8s_v3', family: 'standardESv3Family', cores: 8, gpus: 0, meter: 'E8s v3', series: 'Virtual Machines ESv3 Series', usdPerHourEastUsLinux: 0.504, basis: 'list' },
  { armSkuName: 'Standard_E16s_v3', family: 'standardESv3Family', cores: 16, gpus: 0, meter: 'E16s v3', series: 'Virtual Machines ESv3 Series', usdPerHourEastUsLinux: 1.008, basis: 'list' },
  { armSkuName: 'Standard_E32s_v3', family: 'standardESv3Family', cores: 32, gpus: 0, meter: 'E32s v3', series: 'Virtual Machines ESv3 Series', usdPerHourEastUsLinux: 2.016, basis: 'list' },
  { armSkuName: 'Standard_E48s_v3', family: 'standardESv3Family', cores: 48, gpus: 0, meter: 'E48s v3', series: 'Virtual Machines ESv3 Series', usdPerHourEastUsLinux: 3.024, basis: 'list' },
  { armSkuName: 'Standard_E64s_v3', family: 'standardESv3Family', cores: 64, gpus: 0, meter: 'E64s v3', series: 'Virtual Machines ESv3 Series', usdPerHourEastUsLinux: 4.032, basis: 'list' },
  { armSkuName: 'Standard_F2s_v2', family: 'standardFSv2Family', cores: 2, gpus: 0, meter: 'F2s v2', series: 'Virtual Machines FSv2 Series', usdPerHourEastUsLinux: 0.0846, basis: 'list' },
  { armSkuName: 'Standard_F4s_v2', family: 'standardFSv2Family', cores: 4, gpus: 0, meter: 'F4s v2', series: 'Virtual Machines FSv2 Series', usdPerHourEastUsLinux: 0.169, basis: 'ref' },
  { armSkuName: 'Standard_F8s_v2', family: 'standardFSv2Family', cores: 8, gpus: 0, meter: 'F8s v2', series: 'Virtual Machines FSv2 Series', usdPerHourEastUsLinux: 0.338, basis: 'list' },
  { armSkuName: 'Standard_F16s_v2', family: 'standardFSv2Family', cores: 16, gpus: 0, meter: 'F16s v2', series: 'Virtual Machines FSv2 Series', usdPerHourEastUsLinux: 0.677, basis: 'list' },
  { armSkuName: 'Standard_F32s_v2', family: 'standardFSv2Family', cores: 32, gpus: 0, meter: 'F32s v2', series: 'Virtual Machines FSv2 Series', usdPerHourEastUsLinux: 1.353, basis: 'list' },
  { armSkuName: 'Standard_F48s_v2', family: 'standardFSv2Family', cores: 48, gpus: 0, meter: 'F48s v2', series: 'Virtual Machines FSv2 Series', usdPerHourEastUsLinux: 2.03, basis: 'list' },
  { armSkuName: 'Standard_F64s_v2', family: 'standardFSv2Family', cores: 64, gpus: 0, meter: 'F64s v2', series: 'Virtual Machines FSv2 Series', usdPerHourEastUsLinux: 2.706, basis: 'list' },
  { armSkuName: 'Standard_F72s_v2', family: 'standardFSv2Family', cores: 72, gpus: 0, meter: 'F72s v2', series: 'Virtual Machines FSv2 Series', usdPerHourEastUsLinux: 3.045, basis: 'list' },
  { armSkuName: 'Standard_FX4mds', family: 'standardFXMDVSFamily', cores: 4, gpus: 0, meter: 'FX4mds', series: 'Virtual Machines FXmds Series', usdPerHourEastUsLinux: 0.371, basis: 'list' },
  { armSkuName: 'Standard_FX12mds', family: 'standardFXMDVSFamily', cores: 12, gpus: 0, meter: 'FX12mds', series: 'Virtual Machines FXmds Series', usdPerHourEastUsLinux: 1.113, basis: 'list' },
  { armSkuName: 'Standard_FX24mds', family: 'standardFXMDVSFamily', cores: 24, gpus: 0, meter: 'FX24mds', series: 'Virtual Machines FXmds Series', usdPerHourEastUsLinux: 2.226, basis: 'list' },
  { armSkuName: 'Standard_FX36mds', family: 'standardFXMDVSFamily', cores: 36, gpus: 0, meter: 'FX36mds', series: 'Virtual Machines FXmds Series', usdPerHourEastUsLinux: 3.339, basis: 'list' },
  { armSkuName: 'Standard_FX48mds', family: 'standardFXMDVSFamily', cores: 48, gpus: 0, meter: 'FX48mds', series: 'Virtual Machines FXmds Series', usdPerHourEastUsLinux: 4.452, basis: 'list' },
  { armSkuName: 'Standard_L8as_v3', family: 'standardLASv3Family', cores: 8, gpus: 0, meter: 'L8as v3', series: 'Virtual Machines LASv3 Series', usdPerHourEastUsLinux: 0.624, basis: 'list' },
  { armSkuName: 'Standard_L16as_v3', family: 'standardLASv3Family', cores: 16, gpus: 0, meter: 'L16as v3', series: 'Virtual Machines LASv3 Series', usdPerHourEastUsLinux: 1.248, basis: 'list' },
  { armSkuName: 'Standard_L32as_v3', family: 'standardLASv3Family', cores: 32, gpus: 0, meter: 'L32as v3', series: 'Virtual Machines LASv3 Series', usdPerHourEastUsLinux: 2.496, basis: 'list' },
  { armSkuName: 'Standard_L48as_v3', family: 'standardLASv3Family', cores: 48, gpus: 0, meter: 'L48as v3', series: 'Virtual Machines LASv3 Series', usdPerHourEastUsLinux: 3.744, basis: 'list' },
  { armSkuName: 'Standard_L64as_v3', family: 'standardLASv3Family', cores: 64, gpus: 0, meter: 'L64as v3', series: 'Virtual Machines LASv3 Series', usdPerHourEastUsLinux: 4.992, basis: 'list' },
  { armSkuName: 'Standard_L80as_v3', family: 'standardLASv3Family', cores: 80, gpus: 0, meter: 'L80as v3', series: 'Virtual Machines LASv3 Series', usdPerHourEastUsLinux: 6.24, basis: 'list' },
  { armSkuName: 'Standard_L8s_v2', family: 'standardLSv2Family', cores: 8, gpus: 0, meter: 'L8s v2', series: 'Virtual Machines LSv2 Series', usdPerHourEastUsLinux: 0.624, basis: 'list' },
  { armSkuName: 'Standard_L16s_v2', family: 'standardLSv2Family', cores: 16, gpus: 0, meter: 'L16s v2', series: 'Virtual Machines LSv2 Series', usdPerHourEastUsLinux: 1.248, basis: 'list' },
  { armSkuName: 'Standard_L32s_v2', family: 'standardLSv2Family', cores: 32, gpus: 0, meter: 'L32s v2', series: 'Virtual Machines LSv2 Series', usdPerHourEastUsLinux: 2.496, basis: 'list' },
  { armSkuName: 'Standard_L48s_v2', family: 'standardLSv2Family', cores: 48, gpus: 0, meter: 'L48s v2', series: 'Virtual Machines LSv2 Series', usdPerHourEastUsLinux: 3.744, basis: 'list' },
  { armSkuName: 'Standard_L64s_v2', family: 'standardLSv2Family', cores: 64, gpus: 0, meter: 'L64s v2', series: 'Virtual Machines LSv2 Series', usdPerHourEastUsLinux: 4.992, basis: 'list' },
  { armSkuName: 'Standard_L80s_v2', family: 'standardLSv2Family', cores: 80, gpus: 0, meter: 'L80s v2', series: 'Virtual Machines LSv2 Series', usdPerHourEastUsLinux: 6.24, basis: 'list' },
  { armSkuName: 'Standard_L8s_v3', family: 'standardLSv3Family', cores: 8, gpus: 0, meter: 'L8s v3', series: 'Virtual Machines LSv3 Series', usdPerHourEastUsLinux: 0.688, basis: 'list' },
  { armSkuName: 'Standard_L16s_v3', family: 'standardLSv3Family', cores: 16, gpus: 0, meter: 'L16s v3', series: 'Virtual Machines LSv3 Series', usdPerHourEastUsLinux: 1.376, basis: 'list' },
  { armSkuName: 'Standard_L32s_v3', family: 'standardLSv3Family', cores: 32, gpus: 0, meter: 'L32s v3', series: 'Virtual Machines LSv3 Series', usdPerHourEastUsLinux: 2.752, basis: 'list' },
  { armSkuName: 'Standard_L48s_v3', family: 'standardLSv3Family', cores: 48, gpus: 0, meter: 'L48s v3', series: 'Virtual Machines LSv3 Series', usdPerHourEastUsLinux: 4.128, basis: 'list' },
  { armSkuName: 'Standard_L64s_v3', family: 'standardLSv3Family', cores: 64, gpus: 0, meter: 'L64s v3', series: 'Virtual Machines LSv3 Series', usdPerHourEastUsLinux: 5.504, basis: 'list' },
  { armSkuName: 'Standard_L80s_v3', family: 'standardLSv3Family', cores: 80, gpus: 0, meter: 'L80s v3', series: 'Virtual Machines LSv3 Series', usdPerHourEastUsLinux: 6.88, basis: 'list' },
  { armSkuName: 'Standard_NC24ads_A100_v4', family: 'standardNCADSA100v4Family', cores: 24, gpus: 1, meter: 'NC24ads A100 v4', series: 'Virtual Machines NCadsA100v4 Series', usdPerHourEastUsLinux: 3.673, basis: 'list' },
  { armSkuName: 'Standard_NC48ads_A100_v4', family: 'standardNCADSA100v4Family', cores: 48, gpus: 2, meter: 'NC48ads A100 v4', series: 'Virtual Machines NCadsA100v4 Series', usdPerHourEastUsLinux: 7.346, basis: 'list' },
  { armSkuName: 'Standard_NC96ads_A100_v4', family: 'standardNCADSA100v4Family', cores: 96, gpus: 4, meter: 'NC96ads A100 v4', series: 'Virtual Machines NCadsA100v4 Series', usdPerHourEastUsLinux: 14.692, basis: 'list' },
  { armSkuName: 'Standard_NC4as_T4_v3', family: 'Standard NCASv3_T4 Family', cores: 4, gpus: 1, meter: 'NC4as T4 v3', series: 'Virtual Machines NCasT4_v3 Series', usdPerHourEastUsLinux: 0.526, basis: 'list' },
  { armSkuName: 'Standard_NC8as_T4_v3', family: 'Standard NCASv3_T4 Family', cores: 8, gpus: 1, meter: 'NC8as T4 v3', series: 'Virtual Machines NCasT4_v3 Series', usdPerHourEastUsLinux: 0.752, basis: 'list' },
  { armSkuName: 'Standard_NC16as_T4_v3', family: 'Standard NCASv3_T4 Family', cores: 16, gpus: 1, meter: 'NC16as T4 v3', series: 'Virtual Machines NCasT4_v3 Series', usdPerHourEastUsLinux: 1.204, basis: 'list' },
  { armSkuName: 'Standard_NC64as_T4_v3', family: 'Standard NCASv3_T4 Family', cores: 64, gpus: 4, meter: 'NC64as T4 v3', series: 'Virtual Machines NCasT4_v3 Series', usdPerHourEastUsLinux: 4.352, basis: 'list' },
  { armSkuName: 'Standard_NC6s_v2', family: 'standardNCSv2Family', cores: 6, gpus: 1, meter: 'NC6s v2', series: 'Virtual Machines NCSv2 Series', usdPerHourEastUsLinux: 2.07, basis: 'list' },
  { armSkuName: 'Standard_NC12s_v2', family: 'standardNCSv2Family', cores: 12, gpus: 2, meter: 'NC12s v2', series: 'Virtual Machines NCSv2 Series', usdPerHourEastUsLinux: 4.14, basis: 'list' },
  { armSkuName: 'Standard_NC24s_v2', family: 'standardNCSv2Family', cores: 24, gpus: 4, meter: 'NC24s v2', series: 'Virtual Machines NCSv2 Series', usdPerHourEastUsLinux: 8.28, basis: 'list' },
  { armSkuName: 'Standard_NC6s_v3', family: 'standardNCSv3Family', cores: 6, gpus: 1, meter: 'NC6s v3', series: 'Virtual Machines NCSv3 Series', usdPerHourEastUsLinux: 3.06, basis: 'ref' },
  { armSkuName: 'Standard_NC12s_v3', family: 'standardNCSv3Family', cores: 12, gpus: 2, meter: 'NC12s v3', series: 'Virtual Machines NCSv3 Series', usdPerHourEastUsLinux: 6.12, basis: 'list' },
  { armSkuName: 'Standard_NC24s_v3', family: 'standardNCSv3Family', cores: 24, gpus: 4, meter: 'NC24s v3', series: 'Virtual Machines NCSv3 Series', usdPerHourEastUsLinux: 12.24, basis: 'list' },
  { armSkuName: 'Standard_NC40ads_H100_v5', family: 'standardNCADSH100v5Family', cores: 40, gpus: 1, meter: 'NC40ads H100 v5', series: 'Virtual Machines NCadsH100v5 Series', usdPerHourEastUsLinux: 6.98, basis: 'list' },
  { armSkuName: 'Standard_NC80adis_H100_v5', family: 'standardNCADSH100v5Family', cores: 80, gpus: 2, meter: 'NC80adis H100 v5', series: 'Virtual Machines NCadsH100v5 Series', usdPerHourEastUsLinux: 13.96, basis: 'list' },
  { armSkuName: 'Standard_ND96amsr_A100_v4', family: 'Standard NDAMSv4_A100Family', cores: 96, gpus: 8, meter: 'ND96amsr A100 v4', series: 'Virtual Machines NDamsrA100v4 Series', usdPerHourEastUsLinux: 32.77, basis: 'list' },
  { armSkuName: 'Standard_ND96asr_v4', family: 'Standard NDASv4_A100 Family', cores: 96, gpus: 8, meter: 'ND96asr v4', series: 'Virtual Machines NDasrA100v4 Series', usdPerHourEastUsLinux: 27.197, basis: 'list' },
  { armSkuName: 'Standard_ND40rs_v2', family: 'standardNDSv2Family', cores: 40, gpus: 8, meter: 'ND40rs v2', series: 'Virtual Machines NDv2 Series', usdPerHourEastUsLinux: 22.032, basis: 'list' },
  { armSkuName: 'Standard_ND96is_H100_v5', family: 'standardNDv5H100Family', cores: 96, gpus: 8, meter: 'ND96is H100 v5', series: 'Virtual Machines NDisrH100v5 Series', usdPerHourEastUsLinux: 98.32, basis: 'list' },
  { armSkuName: 'Standard_ND96isr_H100_v5', family: 'standardNDv5H100Family', cores: 96, gpus: 8, meter: 'ND96isr H100 v5', series: 'Virtual Machines NDisrH100v5 Series', usdPerHourEastUsLinux: 98.32, basis: 'list' },
  { armSkuName: 'Standard_NV6ads_A10_v5', family: 'standardNVADSA10v5Family', cores: 6, gpus: 0.1667, meter: 'NV6ads A10 v5', series: 'Virtual Machines NVadsA10v5 Series', usdPerHourEastUsLinux: 0.454, basis: 'list' },
  { armSkuName: 'Standard_NV12ads_A10_v5', family: 'standardNVADSA10v5Family', cores: 12, gpus: 0.3333, meter: 'NV12ads A10 v5', series: 'Virtual Machines NVadsA10v5 Series', usdPerHourEastUsLinux: 0.908, basis: 'list' },
  { armSkuName: 'Standard_NV18ads_A10_v5', family: 'standardNVADSA10v5Family', cores: 18, gpus: 0.5, meter: 'NV18ads A10 v5', series: 'Virtual Machines NVadsA10v5 Series', usdPerHourEastUsLinux: 1.6, basis: 'list' },
  { armSkuName: 'Standard_NV36ads_A10_v5', family: 'standardNVADSA10v5Family', cores: 36, gpus: 1, meter: 'NV36ads A10 v5', series: 'Virtual Machines NVadsA10v5 Series', usdPerHourEastUsLinux: 3.2, basis: 'list' },
  { armSkuName: 'Standard_NV36adms_A10_v5', family: 'standardNVADSA10v5Family', cores: 36, gpus: 1, meter: 'NV36adms A10 v5', series: 'Virtual Machines NVadsA10v5 Series', usdPerHourEastUsLinux: 4.52, basis: 'list' },
  { armSkuName: 'Standard_NV72ads_A10_v5', family: 'standardNVADSA10v5Family', cores: 72, gpus: 2, meter: 'NV72ads A10 v5', series: 'Virtual Machines NVadsA10v5 Series', usdPerHourEastUsLinux: 6.52, basis: 'list' },
];

/** The managed SKU for an instance type (case-insensitive), or undefined when managed endpoints do not offer it. */
export function managedSku(instanceType: string): ManagedSku | undefined {
  return BY_NAME.get(instanceType.toLowerCase());
}

const BY_NAME = new Map(MANAGED_SKUS.map((s) => [s.armSkuName.toLowerCase(), s]));
