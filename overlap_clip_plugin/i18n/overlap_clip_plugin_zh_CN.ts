<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>OverlapClip</name>
    <message>
      <source>The rasters have no common area: '{name}' (covering {bounds} in {crs}) does not overlap the area {area} in {area_crs} common to {names}.</source>
      <translation>这些栅格没有公共区域：'{name}'（覆盖范围 {bounds}，坐标系 {crs}）与 {names} 的公共区域 {area}（坐标系 {area_crs}）不重叠。</translation>
    </message>
    <message>
      <source>The common area {area} in {crs} holds no pixel centre of the {dx:g} x {dy:g} grid of '{name}': it is thinner than one pixel.</source>
      <translation>坐标系 {crs} 中的公共区域 {area} 不包含 '{name}' 的 {dx:g} x {dy:g} 网格中任何像元的中心：它比一个像元还窄。</translation>
    </message>
    <message>
      <source>'{path}' has no coordinate reference system but '{other}' has {crs}; assign the missing CRS first (Raster &gt; Projections &gt; Assign Projection).</source>
      <translation>'{path}' 没有坐标参考系，而 '{other}' 的坐标参考系为 {crs}；请先为其指定坐标参考系（栅格 &gt; 投影 &gt; 指定投影）。</translation>
    </message>
    <message>
      <source>'{name}' lies where {crs}, the CRS of '{owner}', cannot show it ({count} of {total} points of its outline have a place there): they have no common area on that grid.</source>
      <translation>'{name}' 位于 '{owner}' 的坐标参考系 {crs} 无法表示的位置（其轮廓的 {total} 个点中只有 {count} 个在该坐标系中有位置）：它们在该格网上没有公共区域。</translation>
    </message>
    <message>
      <source>The rasters do not overlap: '{name_a}' covers {bounds_a} in {crs_a}; '{name_b}' covers {bounds_b} in {crs_b}.</source>
      <translation>这些栅格不重叠：'{name_a}' 在 {crs_a} 中覆盖 {bounds_a}；'{name_b}' 在 {crs_b} 中覆盖 {bounds_b}。</translation>
    </message>
    <message>
      <source>The common area crosses the edge of {crs} (the meridian opposite its centre), so on the grid of '{name}' it falls into pieces at opposite ends of {extent}; put the outputs on the grid of another raster, or reproject '{name}' to a CRS centred on the area first.</source>
      <translation>公共区域跨越了 {crs} 的边缘（与其中心相对的经线），因此在“{name}”的网格上它会分成位于 {extent} 两端的几块；请把输出放到另一个栅格的网格上，或先把“{name}”重投影到以该区域为中心的坐标参考系。</translation>
    </message>
    <message>
      <source>Cancelled while mapping change; nothing was written.</source>
      <translation>在绘制变化图时已取消；未写入任何内容。</translation>
    </message>
    <message>
      <source>Choose at least one band to compare.</source>
      <translation>请至少选择一个要比较的波段。</translation>
    </message>
    <message>
      <source>The plain difference compares one band; {count} were chosen.</source>
      <translation>简单差值只比较一个波段；但选择了 {count} 个。</translation>
    </message>
    <message>
      <source>Unknown change method '{method}': use {methods}.</source>
      <translation>未知的变化检测方法“{method}”：请使用 {methods}。</translation>
    </message>
    <message>
      <source>Unknown direction '{direction}': use {directions}.</source>
      <translation>未知的方向“{direction}”：请使用 {directions}。</translation>
    </message>
    <message>
      <source>The block size must be an odd number of pixels, 3 or more; {size} was given.</source>
      <translation>块大小必须是不小于 3 的奇数像元数；给定的是 {size}。</translation>
    </message>
    <message>
      <source>The number of principal components must be from 1 to {most} (the pixels of a block); {components} was given.</source>
      <translation>主成分个数必须在 1 到 {most}（一个块的像元数）之间；给定的是 {components}。</translation>
    </message>
    <message>
      <source>The change threshold must be a finite number; {threshold} was given.</source>
      <translation>变化阈值必须是有限数；给定的是 {threshold}。</translation>
    </message>
    <message>
      <source>'{first}' ({first_width} x {first_height} pixels, geotransform {first_transform}) and '{second}' ({second_width} x {second_height} pixels, geotransform {second_transform}) do not lie on one grid in one CRS; clip them as a pair first (Clip raster pair to common area).</source>
      <translation>“{first}”（{first_width} x {first_height} 像元，地理变换 {first_transform}）与“{second}”（{second_width} x {second_height} 像元，地理变换 {second_transform}）不在同一坐标参考系的同一网格上；请先将它们作为栅格对裁剪（将栅格对裁剪到公共区域）。</translation>
    </message>
    <message>
      <source>The change map and the magnitude cannot both be written to '{path}'; choose another name.</source>
      <translation>变化图和变化幅度不能都写入“{path}”；请另选一个名称。</translation>
    </message>
    <message>
      <source>The common valid area is too small to fit the clusters: it holds {count} whole blocks of {size} x {size} valid pixels and {needed} are needed.</source>
      <translation>公共有效区域太小，无法拟合聚类：其中只有 {count} 个完整的 {size} x {size} 有效像元块，而至少需要 {needed} 个。</translation>
    </message>
    <message>
      <source>The change outputs are GeoTIFF files; give '{path}' a .tif extension.</source>
      <translation>变化检测的输出是 GeoTIFF 文件；请为“{path}”使用 .tif 扩展名。</translation>
    </message>
    <message>
      <source>The output '{path}' would overwrite an input; choose another name.</source>
      <translation>输出“{path}”会覆盖一个输入；请另选一个名称。</translation>
    </message>
    <message>
      <source>The change map, its magnitude and the clipped rasters need files of their own; '{path}' is named twice.</source>
      <translation>变化图、其幅度与裁剪后的栅格各需自己的文件；'{path}' 被指定了两次。</translation>
    </message>
    <message>
      <source>The common valid area is too small to set a threshold: it holds {count} valid pixels and {needed} are needed.</source>
      <translation>公共有效区域太小，无法确定阈值：其中只有 {count} 个有效像元，而至少需要 {needed} 个。</translation>
    </message>
    <message>
      <source>'{first}' has {first_count} bands and '{second}' has {second_count}; choose the bands to compare, which both must have.</source>
      <translation>“{first}”有 {first_count} 个波段，而“{second}”有 {second_count} 个；请选择要比较的波段，两者都必须具有这些波段。</translation>
    </message>
    <message>
      <source>'{name}' has {count} bands, so no band {band} to compare.</source>
      <translation>“{name}”有 {count} 个波段，因此没有可比较的第 {band} 个波段。</translation>
    </message>
    <message>
      <source>Cannot read band {band} of '{name}': {reason}</source>
      <translation>无法读取“{name}”的第 {band} 个波段：{reason}</translation>
    </message>
    <message>
      <source>Cannot write the change map: {reason}</source>
      <translation>无法写入变化图：{reason}</translation>
    </message>
    <message>
      <source>unnamed CRS</source>
      <translation>未命名的坐标参考系</translation>
    </message>
    <message>
      <source>no CRS</source>
      <translation>无坐标参考系</translation>
    </message>
    <message>
      <source>No coordinate transformation leads from {crs} of '{name}' to {other_crs} of '{other}'; reproject one of them first.</source>
      <translation>没有从 '{name}' 的 {crs} 到 '{other}' 的 {other_crs} 的坐标转换；请先将其中一个重投影。</translation>
    </message>
    <message>
      <source>GDAL cannot read the coordinate reference system {wkt}.</source>
      <translation>GDAL 无法读取坐标参考系 {wkt}。</translation>
    </message>
    <message>
      <source>Cancelled; nothing was written.</source>
      <translation>已取消；未写入任何内容。</translation>
    </message>
    <message>
      <source>A piece of the run failed where it ran ({kind}: {reason}); nothing was written.</source>
      <translation>本次运行的一部分在其运行之处失败（{kind}：{reason}）；未写入任何内容。</translation>
    </message>
    <message>
      <source>Dask's distributed package is not installed in this Python (pip install distributed).</source>
      <translation>此 Python 中没有安装 Dask 的 distributed 包（pip install distributed）。</translation>
    </message>
    <message>
      <source>Cannot start or reach the Dask cluster: {reason}</source>
      <translation>无法启动或连接 Dask 集群：{reason}</translation>
    </message>
    <message>
      <source>GDAL's {driver} driver cannot write '{output}' with the bands of '{name}' ({types}): {reason}</source>
      <translation>GDAL 的 {driver} 驱动无法用“{name}”的波段（{types}）写出“{output}”：{reason}</translation>
    </message>
    <message>
      <source>GDAL's {driver} driver refuses to write '{output}' with the creation options '{options}': {reason}</source>
      <translation>GDAL 的 {driver} 驱动拒绝以创建选项“{options}”写出“{output}”：{reason}</translation>
    </message>
    <message>
      <source>'{output}' is an existing file that holds other data ({contents}); writing the output would replace it whole. Choose a new file name.</source>
      <translation>“{output}”是一个已有文件，其中还有其他数据（{contents}）；写出结果会整个替换它。请换一个新文件名。</translation>
    </message>
    <message>
      <source>The creation option {option} would add the output to an existing file, but outputs are written whole and replace the file at their path; write to a new file instead.</source>
      <translation>创建选项 {option} 会把结果添加到已有文件中，但结果总是整体写出并替换其路径上的文件；请改为写入新文件。</translation>
    </message>
    <message>
      <source>The format of '{output}' ({driver}) cannot store band {band} of '{name}' as {data_type} (it would write {kept}, changing the values); choose another format (.tif, or .vrt for mixed types).</source>
      <translation>“{output}”的格式（{driver}）无法以 {data_type} 存储“{name}”的第 {band} 波段（它会写成 {kept}，改变数值）；请选择其他格式（.tif，或混合类型用 .vrt）。</translation>
    </message>
    <message>
      <source>GDAL's {driver} driver cannot write '{output}' with the bands of '{name}' ({types}) and the creation options '{options}': {reason}</source>
      <translation>GDAL 的 {driver} 驱动无法用“{name}”的波段（{types}）和创建选项“{options}”写出“{output}”：{reason}</translation>
    </message>
    <message>
      <source>GDAL cannot intersect the rasters' footprints (GEOS: {reason}); check that every raster's georeference is valid.</source>
      <translation>GDAL 无法求这些栅格覆盖范围的交集（GEOS：{reason}）；请检查每个栅格的地理参考是否有效。</translation>
    </message>
    <message>
      <source>GDAL cannot place '{path}' on a north-up grid: {reason}</source>
      <translation>GDAL 无法把“{path}”放到正北朝上的格网上：{reason}</translation>
    </message>
    <message>
      <source>Cannot place the outline of '{path}' on the ground.</source>
      <translation>无法确定“{path}”的轮廓在地面上的位置。</translation>
    </message>
    <message>
      <source>'{path}' has no georeference at all: no geotransform, no ground control points and no RPCs, so its place on the ground is unknown; georeference it first (Raster &gt; Georeferencer).</source>
      <translation>“{path}”完全没有地理参考：没有地理变换、没有地面控制点，也没有 RPC，因此不知道它在地面上的位置；请先为它配准（栅格 &gt; 地理配准工具）。</translation>
    </message>
    <message>
      <source>The geotransform {transform} is rotated or sheared; warp the raster to a north-up grid first (for example with gdalwarp).</source>
      <translation>地理变换 {transform} 含有旋转或错切；请先将该栅格重投影到正北朝上的网格（例如使用 gdalwarp）。</translation>
    </message>
    <message>
      <source>The geotransform {transform} is not north-up (pixel width must be positive and pixel height negative); warp the raster to a north-up grid first (for example with gdalwarp).</source>
      <translation>地理变换 {transform} 不是正北朝上（像元宽度须为正、像元高度须为负）；请先将该栅格重投影到正北朝上的网格（例如使用 gdalwarp）。</translation>
    </message>
    <message>
      <source>A grid of {width} x {height} pixels is empty.</source>
      <translation>{width} x {height} 像元的网格为空。</translation>
    </message>
    <message>
      <source>Cancelled while tracing the overlap; nothing was written.</source>
      <translation>在描绘重叠区域时已取消；没有写出任何内容。</translation>
    </message>
    <message>
      <source>Cannot trace the overlap polygon: {reason}</source>
      <translation>无法描绘重叠多边形：{reason}</translation>
    </message>
    <message>
      <source>PROJ cannot carry the overlap from {crs} into {other_crs} of '{name}'.</source>
      <translation>PROJ 无法把重叠区域从 {crs} 转换到“{name}”的 {other_crs}。</translation>
    </message>
    <message>
      <source>GDAL's {driver} driver writes '{output}' on a grid and with bands of its own (as gdal_translate does): that output is not on the common grid.</source>
      <translation>GDAL 的 {driver} 驱动以其自身的格网和波段写入 '{output}'（与 gdal_translate 相同）：该输出不在公共格网上。</translation>
    </message>
    <message>
      <source>'{output}' is compressed lossily ({driver} with its creation options): its pixel values are not the source's exactly.</source>
      <translation>'{output}' 采用有损压缩（{driver} 及其创建选项）：其像元值与源数据并不完全相同。</translation>
    </message>
    <message>
      <source>valid data read from GDAL's masks (nodata, alpha, per-dataset masks) at full resolution on the output grid, a strip of rows at a time</source>
      <translation>从 GDAL 的掩膜（无数据值、透明度波段、数据集掩膜）在输出网格上以全分辨率读取有效数据，每次读取一条行带</translation>
    </message>
    <message>
      <source>'{name}' has a clear-sky rule, but the common area is the rasters' extents and no nodata is set where any raster has none: the outputs are as they would be without it.</source>
      <translation>'{name}' 设有晴空规则，但公共区域是栅格范围，且未在任一栅格无有效数据处设置无数据：输出与没有该规则时相同。</translation>
    </message>
    <message>
      <source>'{name}' has a rotated, sheared or south-up geotransform: GDAL's warper resamples it onto the north-up output grid.</source>
      <translation>“{name}”的地理变换是旋转、错切或南向朝上的：由 GDAL 的变形工具将其重采样到正北朝上的输出格网。</translation>
    </message>
    <message>
      <source>'{name}' is placed by ground control points: GDAL's warper resamples it onto the output grid with the polynomial GCP transformer.</source>
      <translation>“{name}”由地面控制点定位：由 GDAL 的变形工具用多项式 GCP 变换将其重采样到输出格网。</translation>
    </message>
    <message>
      <source>'{name}' is placed by ground control points: GDAL's warper resamples it onto the output grid with the thin-plate-spline GCP transformer.</source>
      <translation>“{name}”由地面控制点定位：由 GDAL 的变形工具用薄板样条 GCP 变换将其重采样到输出格网。</translation>
    </message>
    <message>
      <source>'{name}' is placed by rational polynomial coefficients (RPCs): GDAL's warper resamples it onto the output grid with the RPC transformer.</source>
      <translation>“{name}”由有理多项式系数（RPC）定位：由 GDAL 的变形工具用 RPC 变换将其重采样到输出格网。</translation>
    </message>
    <message>
      <source>No GDAL raster driver on this machine writes '.{extension}' files (output '{path}').</source>
      <translation>本机没有能写入 '.{extension}' 文件的 GDAL 栅格驱动（输出 '{path}'）。</translation>
    </message>
    <message>
      <source>The output '{path}' has no file extension, so its format is unknown (use .tif, for example).</source>
      <translation>输出 '{path}' 没有文件扩展名，无法确定格式（例如请使用 .tif）。</translation>
    </message>
    <message>
      <source>The valid data of the rasters do not meet: no pixel of the common extent {area} in {crs} is valid in all of {names}.</source>
      <translation>这些栅格的有效数据互不相交：在坐标系 {crs} 的公共范围 {area} 内，没有任何像元在 {names} 中都有效。</translation>
    </message>
    <message>
      <source>A masked output must hold its own pixels, but a .vrt output only refers to its source; choose another format (.tif, for example) or do not mask.</source>
      <translation>带掩膜的输出必须保存自己的像元，而 .vrt 输出只引用其源数据；请选择其他格式（例如 .tif），或不使用掩膜。</translation>
    </message>
    <message>
      <source>The output '{output}' is the input '{path}'; choose another output path.</source>
      <translation>输出 '{output}' 就是输入 '{path}'；请选择其他输出路径。</translation>
    </message>
    <message>
      <source>Two outputs have the same path '{output}'; give each output its own path.</source>
      <translation>两个输出的路径相同（'{output}'）；请为每个输出指定不同的路径。</translation>
    </message>
    <message>
      <source>The output '{output}' is a folder; give a file name.</source>
      <translation>输出 '{output}' 是一个文件夹；请给出文件名。</translation>
    </message>
    <message>
      <source>The folder '{folder}' of the output '{output}' does not exist.</source>
      <translation>输出 '{output}' 所在的文件夹 '{folder}' 不存在。</translation>
    </message>
    <message>
      <source>Cannot write the output '{output}': the folder '{folder}' is not writable ({reason}).</source>
      <translation>无法写入输出 '{output}'：文件夹 '{folder}' 不可写（{reason}）。</translation>
    </message>
    <message>
      <source>Every output must keep the same valid pixels, but '{output}' ({driver}) is compressed lossily, which changes the values that mark them, and the format has no mask band to keep them in; write it losslessly, or as a GeoTIFF (COMPRESS=JPEG keeps a lossless mask beside it).</source>
      <translation>每个输出必须保留相同的有效像元，但 '{output}'（{driver}）采用有损压缩，会改变标记有效像元的值，而该格式没有可保存它们的掩膜波段；请以无损方式写入，或写为 GeoTIFF（COMPRESS=JPEG 会在其旁保存无损掩膜）。</translation>
    </message>
    <message>
      <source>'{name}' has no valid data (all nodata or masked) inside the common extent {area} in {crs}.</source>
      <translation>'{name}' 在坐标系 {crs} 的公共范围 {area} 内没有有效数据（全部为无数据值或被掩膜）。</translation>
    </message>
    <message>
      <source>A common nodata mask on each raster's own grid needs grids that coincide, but '{name}' and '{first}' are on different grids (CRS, pixel size or pixel phase); put both on one raster's grid instead.</source>
      <translation>在各栅格自身网格上使用公共无数据掩膜要求网格重合，但 '{name}' 与 '{first}' 位于不同的网格（坐标系、像元大小或像元相位不同）；请改为将两者置于同一个栅格的网格上。</translation>
    </message>
    <message>
      <source>None of the rasters has a coordinate reference system: they are taken to share one coordinate space, as their geotransforms say.</source>
      <translation>这些栅格都没有坐标参考系：将按照其地理变换，视为位于同一坐标空间。</translation>
    </message>
    <message>
      <source>The same raster is given more than once: its outputs are copies of one another.</source>
      <translation>同一个栅格被输入了多次：其输出彼此相同。</translation>
    </message>
    <message>
      <source>'{name}' holds palette indices, which {method} resampling would mix into indices that mean nothing: it is resampled by nearest neighbour instead.</source>
      <translation>“{name}”存放的是调色板索引，{method} 重采样会把它们混合成没有意义的索引：因此改用最邻近重采样。</translation>
    </message>
    <message>
      <source>The QA raster '{qa}' is not on the grid of '{name}': its pixels are {qa_dx:g} x {qa_dy:g} from ({qa_x:.10g}, {qa_y:.10g}) in {qa_crs}, those of '{name}' {dx:g} x {dy:g} from ({x:.10g}, {y:.10g}) in {crs}; resample the QA raster onto the grid of its input first (nearest neighbour).</source>
      <translation>QA 栅格 '{qa}' 不在 '{name}' 的网格上：它的像元为 {qa_dx:g} x {qa_dy:g}，起点 ({qa_x:.10g}, {qa_y:.10g})，坐标系 {qa_crs}；'{name}' 的像元为 {dx:g} x {dy:g}，起点 ({x:.10g}, {y:.10g})，坐标系 {crs}；请先将该 QA 栅格重采样到其输入的网格上（最邻近法）。</translation>
    </message>
    <message>
      <source>The QA rule '{text}' is not understood; give a preset ({presets}), or 'bits:' and the bits to reject, or 'classes:' and the classes to keep, as in 'bits:0,1,3' or 'classes:4,5,6'.</source>
      <translation>无法理解 QA 规则 '{text}'；请给出一个预设（{presets}），或以 'bits:' 开头列出要剔除的位，或以 'classes:' 开头列出要保留的类别，例如 'bits:0,1,3' 或 'classes:4,5,6'。</translation>
    </message>
    <message>
      <source>The QA rule '{text}' lists no number after its colon, as in 'bits:0,1,3' or 'classes:4,5,6'.</source>
      <translation>QA 规则 '{text}' 的冒号后没有列出任何数字，应写作 'bits:0,1,3' 或 'classes:4,5,6' 这样的形式。</translation>
    </message>
    <message>
      <source>'{name}' has {count} bands, so no QA band {band}.</source>
      <translation>'{name}' 有 {count} 个波段，因此没有第 {band} 个 QA 波段。</translation>
    </message>
    <message>
      <source>The QA raster '{qa}' covers {qa_bounds} but '{name}' covers {bounds} in {crs}; a QA raster must cover all of its input.</source>
      <translation>在 {crs} 中，QA 栅格 '{qa}' 覆盖 {qa_bounds}，而 '{name}' 覆盖 {bounds}；QA 栅格必须覆盖其输入的全部范围。</translation>
    </message>
    <message>
      <source>The QA raster '{qa}' is no longer on the grid of '{name}'; it changed since the rule was checked.</source>
      <translation>QA 栅格 '{qa}' 已不在 '{name}' 的网格上；自检查该规则以来它已被更改。</translation>
    </message>
    <message>
      <source>Cannot read QA band {band} of '{name}': {reason}</source>
      <translation>无法读取 '{name}' 的第 {band} 个 QA 波段：{reason}</translation>
    </message>
    <message>
      <source>Cannot read a QA band: {reason}</source>
      <translation>无法读取 QA 波段：{reason}</translation>
    </message>
    <message>
      <source>A QA rule rejects bits or keeps classes, not both.</source>
      <translation>QA 规则要么剔除位，要么保留类别，不能两者兼有。</translation>
    </message>
    <message>
      <source>A QA rule needs the bits to reject or the classes to keep; it has neither.</source>
      <translation>QA 规则需要列出要剔除的位或要保留的类别；此规则两者皆无。</translation>
    </message>
    <message>
      <source>QA bands are numbered from 1, so there is no QA band {band}.</source>
      <translation>QA 波段从 1 开始编号，因此没有第 {band} 个 QA 波段。</translation>
    </message>
    <message>
      <source>Band {band} of '{name}' holds {data_type} values, which have no bits to test; give its QA rule as classes to keep ('classes:').</source>
      <translation>'{name}' 的第 {band} 波段存储的是 {data_type} 数值，没有可检验的位；请以要保留的类别（'classes:'）给出其 QA 规则。</translation>
    </message>
    <message>
      <source>The QA rule rejects bit {bit}, but band {band} of '{name}' is {data_type}, with bits 0 to {last}.</source>
      <translation>QA 规则剔除第 {bit} 位，但 '{name}' 的第 {band} 波段为 {data_type}，只有第 0 至第 {last} 位。</translation>
    </message>
    <message>
      <source>A QA rule cannot reject bit {bit}: bits run from 0 to {last}.</source>
      <translation>QA 规则不能剔除第 {bit} 位：位的编号为 0 至 {last}。</translation>
    </message>
    <message>
      <source>The QA rule '{text}' has '{item}' where a whole number is expected; separate whole numbers with commas, as in 'bits:0,1,3'.</source>
      <translation>QA 规则 '{text}' 中应为整数的位置是 '{item}'；请用逗号分隔各整数，例如 'bits:0,1,3'。</translation>
    </message>
    <message>
      <source>GDAL cannot open '{path}' as a raster: {reason}.</source>
      <translation>GDAL 无法将 '{path}' 作为栅格打开：{reason}。</translation>
    </message>
    <message>
      <source>'{path}' holds no raster band.</source>
      <translation>'{path}' 不包含任何栅格波段。</translation>
    </message>
    <message>
      <source>The raster '{path}' does not exist.</source>
      <translation>栅格 '{path}' 不存在。</translation>
    </message>
    <message>
      <source>GDAL cannot read '{path}': {reason}.</source>
      <translation>GDAL 无法读取 '{path}'：{reason}。</translation>
    </message>
    <message>
      <source>GDAL cannot open '{path}' as a raster: it is not in any raster format GDAL reads.</source>
      <translation>GDAL 无法将 '{path}' 作为栅格打开：它不是 GDAL 可读取的任何栅格格式。</translation>
    </message>
    <message>
      <source>The GeoTIFF '{path}' is truncated: its data run to byte {end} but the file holds {size} bytes; copy or download it again.</source>
      <translation>GeoTIFF 文件 '{path}' 不完整：其数据应延续到第 {end} 字节，但文件只有 {size} 字节；请重新复制或下载。</translation>
    </message>
    <message>
      <source>The input '{path}' changed while the run read it (its files or its grid are not what the plan saw); nothing was written. Run again once whatever writes it has finished.</source>
      <translation>输入 '{path}' 在运行读取期间发生了变化（其文件或格网与计划所见不同）；未写入任何内容。请在写入它的程序完成后再次运行。</translation>
    </message>
    <message>
      <source>'{name}' is moved by {dx:.2f}, {dy:.2f} pixels, but nearest-neighbour resampling moves its pixels by whole pixels only: choose bilinear, cubic or Lanczos resampling to remove the fraction too.</source>
      <translation>'{name}' 被移动了 {dx:.2f}、{dy:.2f} 像元，但最邻近重采样只能按整像元移动其像元：若要同时消除小数部分，请选择双线性、三次卷积或 Lanczos 重采样。</translation>
    </message>
    <message>
      <source>Cancelled before anything was written.</source>
      <translation>已在写入任何内容之前取消。</translation>
    </message>
    <message>
      <source>The common area ({width} x {height} pixels) is too small to estimate a shift: it needs at least {size} x {size} pixels.</source>
      <translation>公共区域（{width} x {height} 像元）太小，无法估计偏移：至少需要 {size} x {size} 像元。</translation>
    </message>
    <message>
      <source>Too little valid overlap to estimate a shift: none of the {total} windows of {size} x {size} pixels has at least {percent}% of its pixels valid in both rasters.</source>
      <translation>有效重叠太少，无法估计偏移：{total} 个 {size} x {size} 像元的窗口中，没有一个窗口在两个栅格中都有至少 {percent}% 的有效像元。</translation>
    </message>
    <message>
      <source>The content is too flat to estimate a shift: none of the {usable} windows with valid data shows texture in both rasters.</source>
      <translation>内容过于平坦，无法估计偏移：{usable} 个含有效数据的窗口中，没有一个在两个栅格中都显示出纹理。</translation>
    </message>
    <message>
      <source>The rasters' content does not match: none of the {usable} windows with texture shows a clear correlation peak (unrelated images, too much change, or a shift of more than {unmatched} pixels).</source>
      <translation>栅格的内容不匹配：{usable} 个有纹理的窗口中，没有一个显示出清晰的相关峰（图像无关、变化过大，或偏移超过 {unmatched} 像元）。</translation>
    </message>
    <message>
      <source>The windows disagree on the shift: {agreeing} of the {measured} measured windows agree within {tolerance} pixels, and {needed} must.</source>
      <translation>各窗口对偏移的估计不一致：{measured} 个已测窗口中有 {agreeing} 个在 {tolerance} 像元内一致，而至少需要 {needed} 个。</translation>
    </message>
    <message>
      <source>The rasters are shifted by more than the estimate can measure, {largest} pixels ({distance}) on each axis; register them roughly first.</source>
      <translation>栅格之间的偏移超出了估计所能测量的范围，即每个轴向 {largest} 像元（{distance}）；请先对它们进行粗配准。</translation>
    </message>
    <message>
      <source>Cancelled while estimating the shift between the rasters; nothing was written.</source>
      <translation>在估计栅格之间的偏移时已取消；未写入任何内容。</translation>
    </message>
    <message>
      <source>Cannot read a window of '{name}': {reason}</source>
      <translation>无法读取 '{name}' 的一个窗口：{reason}</translation>
    </message>
    <message>
      <source>'{name}' has {count} bands, so no band {band} to estimate a shift on.</source>
      <translation>'{name}' 有 {count} 个波段，因此没有可用于估计偏移的第 {band} 波段。</translation>
    </message>
    <message>
      <source>The shift of '{name}' cannot be corrected: {reason}</source>
      <translation>无法校正 '{name}' 的偏移：{reason}</translation>
    </message>
    <message>
      <source>'{name}' is placed by {how}, not by a north-up geotransform: correct its shift by warping it instead.</source>
      <translation>'{name}' 由 {how} 定位，而非北向朝上的地理变换：请改为通过重投影来校正其偏移。</translation>
    </message>
    <message>
      <source>map units</source>
      <translation>地图单位</translation>
    </message>
    <message>
      <source>The shift of '{name}' cannot be carried into its CRS: one of it and the grid has no CRS.</source>
      <translation>无法将 '{name}' 的偏移转换到其坐标参考系：它和格网中有一个没有坐标参考系。</translation>
    </message>
    <message>
      <source>Cancelled while finding where the rasters have valid data; nothing was written.</source>
      <translation>在查找栅格有效数据范围时已取消；未写入任何内容。</translation>
    </message>
    <message>
      <source>Cannot read the common mask: {reason}</source>
      <translation>无法读取共同掩膜：{reason}</translation>
    </message>
    <message>
      <source>Cancelled while choosing a nodata value for '{name}'; nothing was written.</source>
      <translation>在为“{name}”选择无数据值时已取消；没有写出任何内容。</translation>
    </message>
    <message>
      <source>The bands of '{name}' use every value that could mark nodata; set a nodata value on them first (Raster &gt; Conversion &gt; Translate, -a_nodata).</source>
      <translation>'{name}' 的波段用尽了所有可用作无数据的值；请先为其设置无数据值（栅格 &gt; 转换 &gt; 转换格式，-a_nodata）。</translation>
    </message>
    <message>
      <source>Cannot read masks: {reason}</source>
      <translation>无法读取掩膜：{reason}</translation>
    </message>
    <message>
      <source>Cannot move the finished outputs into place ({file}: {reason}); every output path is as it was.</source>
      <translation>无法把写好的结果移到目标位置（{file}：{reason}）；所有结果路径均保持原样。</translation>
    </message>
    <message>
      <source>User terminated</source>
      <translation>用户已终止</translation>
    </message>
    <message>
      <source>GDAL's {driver} driver did not write '{path}' but {files}; give the output the name that GDAL gives it.</source>
      <translation>GDAL 的 {driver} 驱动没有写出“{path}”，而是写出了 {files}；请使用 GDAL 所给的名称作为输出名。</translation>
    </message>
    <message>
      <source>Cancelled while writing; nothing was written.</source>
      <translation>写入时已取消；未写入任何内容。</translation>
    </message>
    <message>
      <source>Writing '{output}' would replace '{file}', a file of the input '{input}'; choose another output name.</source>
      <translation>写入 '{output}' 将替换输入 '{input}' 的文件 '{file}'；请选择其他输出名称。</translation>
    </message>
    <message>
      <source>Cancelled while writing '{path}'; nothing was written.</source>
      <translation>写入 '{path}' 时已取消；未写入任何内容。</translation>
    </message>
    <message>
      <source>Cannot read '{path}': {reason}</source>
      <translation>无法读取 '{path}'：{reason}</translation>
    </message>
    <message>
      <source>en</source>
      <translation>zh_CN</translation>
    </message>
    <message>
      <source>Raster</source>
      <translation>栅格</translation>
    </message>
    <message>
      <source>Which pixels count as valid beyond nodata, from a QA band. Empty: all of them. A preset: landsat-c2-qa-pixel (Landsat Collection 2 QA_PIXEL: fill, dilated cloud, cirrus, cloud, cloud shadow and snow are not valid) or sentinel-2-scl (Sentinel-2 L2A SCL: classes 2, 4, 5, 6 and 7 are valid). Or a rule of your own: bits:0,1,3 (bits to reject) or classes:4,5,6 (classes to keep). The common valid area ('Where all rasters have valid data') and the nodata set where any raster has none then leave out clouds, their shadows and snow, and so does the shift estimate; with raster extents and no nodata set, the outputs are as without the rule.</source>
      <translation>除无数据外，再按 QA 波段判断哪些像元有效。留空：全部有效。预设：landsat-c2-qa-pixel（Landsat Collection 2 QA_PIXEL：填充、扩张云、卷云、云、云阴影和雪均无效）或 sentinel-2-scl（Sentinel-2 L2A SCL：类别 2、4、5、6 和 7 有效）。也可自定规则：bits:0,1,3（要剔除的位）或 classes:4,5,6（要保留的类别）。此时公共有效区域（“所有栅格都有有效数据之处”）以及在任一栅格无有效数据处设置的无数据都会排除云、云阴影和雪，偏移估计也同样排除；若使用栅格范围且不设无数据，输出与没有该规则时相同。</translation>
    </message>
    <message>
      <source>The band that holds the QA values: a band of the raster itself, or of its QA raster when one is given.</source>
      <translation>存放 QA 值的波段：栅格自身的波段，或在给出 QA 栅格时为该 QA 栅格的波段。</translation>
    </message>
    <message>
      <source>A separate QA raster (a Landsat *_QA_PIXEL.TIF, a Sentinel-2 SCL resampled to the raster's pixels) on the raster's grid and covering it; empty: the QA band is a band of the raster itself.</source>
      <translation>单独的 QA 栅格（Landsat 的 *_QA_PIXEL.TIF，或已重采样到该栅格像元的 Sentinel-2 SCL），须位于该栅格的格网上并将其完全覆盖；留空：QA 波段是栅格自身的一个波段。</translation>
    </message>
    <message>
      <source>Common area</source>
      <translation>公共区域</translation>
    </message>
    <message>
      <source>Raster extents: the intersection of the extents. Where all rasters have valid data: the bounding box of the pixels where every raster has valid data (not nodata, not masked) in every band.</source>
      <translation>栅格范围：各范围的交集。所有栅格都有有效数据之处：所有栅格在每个波段都有有效数据（非无数据值、未被掩膜）的像元的外包矩形。</translation>
    </message>
    <message>
      <source>Set nodata where any raster has no valid data</source>
      <translation>在任一栅格无有效数据处设为无数据</translation>
    </message>
    <message>
      <source>All outputs then have the same valid pixels. A band without a nodata value gets one that its data never take.</source>
      <translation>这样所有输出的有效像元完全相同。没有无数据值的波段会获得一个其数据中从未出现的值作为无数据值。</translation>
    </message>
    <message>
      <source>Resampling method</source>
      <translation>重采样方法</translation>
    </message>
    <message>
      <source>Used only for a raster that does not already lie on the output grid.</source>
      <translation>仅用于尚未位于输出网格上的栅格。</translation>
    </message>
    <message>
      <source>Creation options</source>
      <translation>创建选项</translation>
    </message>
    <message>
      <source>GDAL creation options for every output, as KEY=VALUE|KEY2=VALUE2.</source>
      <translation>用于每个输出的 GDAL 创建选项，格式为 KEY=VALUE|KEY2=VALUE2。</translation>
    </message>
    <message>
      <source>Transformer for rasters placed by ground control points</source>
      <translation>由地面控制点定位的栅格所用的变换</translation>
    </message>
    <message>
      <source>How GDAL's warper places a raster georeferenced only by GCPs: a polynomial fitted to them (its order chosen from their number), or a thin plate spline through every one.</source>
      <translation>GDAL 的变形工具如何放置仅由 GCP 配准的栅格：拟合这些点的多项式（阶数按点数选择），或穿过每个点的薄板样条。</translation>
    </message>
    <message>
      <source>Elevation model for rasters placed by RPCs</source>
      <translation>由 RPC 定位的栅格所用的高程模型</translation>
    </message>
    <message>
      <source>Heights for GDAL's RPC transformer, for a raster georeferenced by rational polynomial coefficients (RPCs); without it the RPCs are used at height 0.</source>
      <translation>为 GDAL 的 RPC 变换提供高程，用于由有理多项式系数（RPC）配准的栅格；没有它时 RPC 按高程 0 使用。</translation>
    </message>
    <message>
      <source>Dask scheduler address</source>
      <translation>Dask 调度器地址</translation>
    </message>
    <message>
      <source>Empty: the run uses every core of this machine. An address (tcp://host:8786) sends the reading, the valid-data scan and the writing of each output to that Dask cluster; its workers need GDAL and this plugin, and must see the inputs and the output folders. Needs Dask's distributed package in QGIS's Python.</source>
      <translation>留空：本次运行使用本机的所有核心。给出地址（tcp://host:8786）时，读取、有效数据扫描以及每个输出的写入都交给该 Dask 集群；其工作节点需要 GDAL 和本插件，并且必须能访问输入和输出文件夹。需要 QGIS 的 Python 中装有 Dask 的 distributed 包。</translation>
    </message>
    <message>
      <source>{} x {} pixels ({:.6g} {} x {:.6g} {})</source>
      <translation>{} x {} 像元（{:.6g} {} x {:.6g} {}）</translation>
    </message>
    <message>
      <source>Nearest neighbour</source>
      <translation>最近邻</translation>
    </message>
    <message>
      <source>Bilinear</source>
      <translation>双线性</translation>
    </message>
    <message>
      <source>Cubic</source>
      <translation>三次卷积</translation>
    </message>
    <message>
      <source>Cubic spline</source>
      <translation>三次样条</translation>
    </message>
    <message>
      <source>Lanczos windowed sinc</source>
      <translation>Lanczos 窗口 sinc</translation>
    </message>
    <message>
      <source>Average</source>
      <translation>平均值</translation>
    </message>
    <message>
      <source>Mode</source>
      <translation>众数</translation>
    </message>
    <message>
      <source>Minimum</source>
      <translation>最小值</translation>
    </message>
    <message>
      <source>Maximum</source>
      <translation>最大值</translation>
    </message>
    <message>
      <source>Median</source>
      <translation>中位数</translation>
    </message>
    <message>
      <source>First quartile</source>
      <translation>第一四分位数</translation>
    </message>
    <message>
      <source>Third quartile</source>
      <translation>第三四分位数</translation>
    </message>
    <message>
      <source>Output {}: nodata ({}) where any raster has no valid data.</source>
      <translation>输出 {}：在任一栅格无有效数据处设为无数据（{}）。</translation>
    </message>
    <message>
      <source>Raster extents</source>
      <translation>栅格范围</translation>
    </message>
    <message>
      <source>Where all rasters have valid data</source>
      <translation>所有栅格都有有效数据之处</translation>
    </message>
    <message>
      <source>Polynomial</source>
      <translation>多项式</translation>
    </message>
    <message>
      <source>Thin plate spline</source>
      <translation>薄板样条</translation>
    </message>
    <message>
      <source>Common extent in {}: {}</source>
      <translation>公共范围（{}）：{}</translation>
    </message>
    <message>
      <source>Output {}: transparent in its alpha band where any raster has no valid data.</source>
      <translation>输出 {}：在任一栅格无有效数据处，其透明度波段设为透明。</translation>
    </message>
    <message>
      <source>Output {}: masked in its mask band where any raster has no valid data.</source>
      <translation>输出 {}：在任一栅格无有效数据处，其掩膜波段设为遮蔽。</translation>
    </message>
    <message>
      <source>A Dask scheduler ({}) is given, but Dask's distributed package is not installed in QGIS's Python.</source>
      <translation>给出了 Dask 调度器（{}），但 QGIS 的 Python 中没有安装 Dask 的 distributed 包。</translation>
    </message>
    <message>
      <source>Cannot reach the Dask scheduler {}: {}</source>
      <translation>无法连接 Dask 调度器 {}：{}</translation>
    </message>
    <message>
      <source>The layer '{}' is not a file GDAL can read (provider '{}').</source>
      <translation>图层 '{}' 不是 GDAL 可读取的文件（数据提供者 '{}'）。</translation>
    </message>
    <message>
      <source>GDAL: {}</source>
      <translation>GDAL：{}</translation>
    </message>
    <message>
      <source>Shift of {} against {}: {:+.2f}, {:+.2f} pixels ({}); {} of {} windows agree within {:.2f} pixels.</source>
      <translation>{} 相对 {} 的偏移：{:+.2f}、{:+.2f} 像元（{}）；{} 个窗口（共 {} 个）在 {:.2f} 像元内一致。</translation>
    </message>
    <message>
      <source>Footprints: {}.</source>
      <translation>覆盖范围：{}。</translation>
    </message>
    <message>
      <source>{width} x {height} pixels from column {col}, row {row} of the source</source>
      <translation>源栅格中自第 {col} 列、第 {row} 行起的 {width} x {height} 像元</translation>
    </message>
    <message>
      <source>The QA raster '{}' is given without a QA rule; give the rule its values follow.</source>
      <translation>给出了 QA 栅格 '{}' 却没有 QA 规则；请给出其取值所遵循的规则。</translation>
    </message>
    <message>
      <source>Clear-sky rule of {}</source>
      <translation>{} 的晴空规则</translation>
    </message>
    <message>
      <source>QA band of {}</source>
      <translation>{} 的 QA 波段</translation>
    </message>
    <message>
      <source>QA raster of {}</source>
      <translation>{} 的 QA 栅格</translation>
    </message>
    <message>
      <source>Shift of {} against {} not estimated: {}</source>
      <translation>未估计 {} 相对 {} 的偏移：{}</translation>
    </message>
    <message>
      <source>{} was moved by {:+.2f}, {:+.2f} pixels before its grid was planned.</source>
      <translation>在规划其格网之前，{} 已被移动 {:+.2f}、{:+.2f} 像元。</translation>
    </message>
    <message>
      <source>Output {}: {}, copied without resampling ({}).</source>
      <translation>输出 {}：{}，未经重采样直接复制（{}）。</translation>
    </message>
    <message>
      <source>Output {}: {}, resampled onto the output grid ({}).</source>
      <translation>输出 {}：{}，已重采样到输出网格（{}）。</translation>
    </message>
    <message>
      <source>Incorrect parameter value for {}</source>
      <translation>{} 的参数值不正确</translation>
    </message>
    <message>
      <source>Change map of two dates</source>
      <translation>两个日期的变化图</translation>
    </message>
    <message>
      <source>Maps where raster B (the later date) differs from raster A (the earlier date). Both are first clipped onto A's grid over the area where both have valid data, with nodata set where either has none; the change map is then 1 (change), 0 (no change) or 255 (nodata, outside that common area).

Methods:
- PCA + k-means (after Celik, 2009): the difference image (its magnitude over the compared bands), each pixel's block of h x h pixels projected onto the S leading principal components, split into two clusters; the cluster of larger mean difference is change.
- Change-vector magnitude: the length of the difference over the compared bands, above Otsu's threshold or the one given.
- Difference: one band's difference (both ways, brighter only or darker only), above Otsu's threshold or the one given.

What every method assumes: the dates are radiometrically comparable (the same sensor, or a pair normalised beforehand, in the same units); the images are registered (check it with the shift estimate of 'Clip raster pair to common area': a shift of a pixel makes edges look like change); and the scene holds two classes, change and no change. Clouds, shadows and seasons are change to every method: mask clouds, their shadows and snow with the clear-sky rules of A and B (QA_A, QA_B), which make them nodata in the map. The thresholds are in the bands' units.

Example: two Landsat scenes of 2020 (A) and 2024 (B), green band only (BANDS 1), PCA + k-means: the map's red pixels are the change, and the log gives their count, percent and area in square metres.</source>
      <translation>绘出栅格 B（较晚日期）与栅格 A（较早日期）不同之处。两者先被裁剪到 A 的网格上、两者都有有效数据的区域，并在任一者无数据处设为无数据；变化图随后为 1（变化）、0（未变化）或 255（无数据，公共区域之外）。

方法：
- PCA + k 均值（依 Celik，2009）：差值图像（所比较波段上的幅度），每个像元的 h x h 像元块投影到前 S 个主成分上，再分为两个聚类；平均差值较大的聚类为变化。
- 变化向量幅度：所比较波段上差值的长度，高于 Otsu 阈值或给定阈值即为变化。
- 差值：单个波段的差值（双向、只看变亮或只看变暗），高于 Otsu 阈值或给定阈值即为变化。

每种方法的前提：两个日期在辐射上可比（同一传感器，或事先归一化、单位相同的一对影像）；影像已配准（可用“将栅格对裁剪到公共区域”的偏移估计检查：一个像元的偏移会使边缘看起来像变化）；场景只有两类，变化与未变化。云、阴影与季节对每种方法都是变化：请用 A 与 B 的晴空规则（QA_A、QA_B）掩去云、云阴影与雪，它们在变化图中即为无数据。阈值的单位与波段相同。

示例：2020 年（A）与 2024 年（B）的两景 Landsat 影像，只用绿波段（BANDS 1），PCA + k 均值：图中的红色像元即为变化，日志给出其数量、百分比和以平方米计的面积。</translation>
    </message>
    <message>
      <source>Raster A (earlier date)</source>
      <translation>栅格 A（较早日期）</translation>
    </message>
    <message>
      <source>The first date; the change map lies on its grid.</source>
      <translation>第一个日期；变化图位于其网格上。</translation>
    </message>
    <message>
      <source>Raster B (later date)</source>
      <translation>栅格 B（较晚日期）</translation>
    </message>
    <message>
      <source>The second date, on any grid: it is clipped onto A's grid first.</source>
      <translation>第二个日期，可在任意网格上：先被裁剪到 A 的网格上。</translation>
    </message>
    <message>
      <source>Bands to compare</source>
      <translation>要比较的波段</translation>
    </message>
    <message>
      <source>The bands compared, the same numbers in both rasters. Empty: every band (both rasters must then have as many); the plain difference compares band 1.</source>
      <translation>要比较的波段，两个栅格中编号相同。留空：所有波段（两个栅格的波段数须相同）；简单差值只比较波段 1。</translation>
    </message>
    <message>
      <source>Method</source>
      <translation>方法</translation>
    </message>
    <message>
      <source>PCA + k-means: blocks of the difference image split into two clusters. Change-vector magnitude and difference: above a threshold (Otsu's unless one is given).</source>
      <translation>PCA + k 均值：差值图像的像元块分为两个聚类。变化向量幅度与差值：高于阈值即为变化（未给出时用 Otsu 阈值）。</translation>
    </message>
    <message>
      <source>Block size h (pixels, odd)</source>
      <translation>块大小 h（像元，奇数）</translation>
    </message>
    <message>
      <source>PCA + k-means: the side of each pixel's neighbourhood, an odd number of pixels.</source>
      <translation>PCA + k 均值：每个像元邻域的边长，为奇数个像元。</translation>
    </message>
    <message>
      <source>Principal components S</source>
      <translation>主成分数 S</translation>
    </message>
    <message>
      <source>PCA + k-means: how many leading principal components each block keeps.</source>
      <translation>PCA + k 均值：每个像元块保留的前几个主成分的数目。</translation>
    </message>
    <message>
      <source>Change threshold</source>
      <translation>变化阈值</translation>
    </message>
    <message>
      <source>Change-vector magnitude and difference: a change above this value, in the bands' units. Empty: Otsu's threshold on a sample of the common area. Not used by PCA + k-means.</source>
      <translation>变化向量幅度与差值：高于此值即为变化，单位与波段相同。留空：在公共区域的样本上取 Otsu 阈值。PCA + k 均值不使用。</translation>
    </message>
    <message>
      <source>Difference direction</source>
      <translation>差值方向</translation>
    </message>
    <message>
      <source>Difference only: which change counts.</source>
      <translation>仅用于差值：哪种变化计为变化。</translation>
    </message>
    <message>
      <source>Change map</source>
      <translation>变化图</translation>
    </message>
    <message>
      <source>Byte GeoTIFF (.tif): 1 change, 0 no change, 255 nodata outside the common area.</source>
      <translation>Byte 类型 GeoTIFF（.tif）：1 变化，0 未变化，公共区域之外为 255 无数据。</translation>
    </message>
    <message>
      <source>Change magnitude</source>
      <translation>变化幅度</translation>
    </message>
    <message>
      <source>Float32 GeoTIFF (.tif) of the quantity the method compares (the difference's magnitude).</source>
      <translation>方法所比较的量（差值的幅度），Float32 类型 GeoTIFF（.tif）。</translation>
    </message>
    <message>
      <source>change detection,change map,difference,pca,k-means,kmeans,otsu,celik,two dates</source>
      <translation>变化检测,变化图,差值,主成分,k 均值,pca,k-means,kmeans,otsu,celik,两个日期</translation>
    </message>
    <message>
      <source>Clipped raster A</source>
      <translation>裁剪后的栅格 A</translation>
    </message>
    <message>
      <source>Clipped raster B</source>
      <translation>裁剪后的栅格 B</translation>
    </message>
    <message>
      <source>The raster on A's grid over the common area, as compared; a temporary file unless named.</source>
      <translation>位于 A 的网格上、覆盖公共区域、参与比较的栅格；未命名时为临时文件。</translation>
    </message>
    <message>
      <source>Changed pixels</source>
      <translation>变化像元数</translation>
    </message>
    <message>
      <source>Pixels compared (common valid area)</source>
      <translation>参与比较的像元数（公共有效区域）</translation>
    </message>
    <message>
      <source>Changed percent of the common area</source>
      <translation>变化占公共区域的百分比</translation>
    </message>
    <message>
      <source>Changed area on the ellipsoid (square metres)</source>
      <translation>椭球面上的变化面积（平方米）</translation>
    </message>
    <message>
      <source>Threshold used</source>
      <translation>所用阈值</translation>
    </message>
    <message>
      <source>PCA + k-means sets no threshold; the change threshold is not used.</source>
      <translation>PCA + k 均值不设阈值；变化阈值未被使用。</translation>
    </message>
    <message>
      <source>PCA + k-means (Celik 2009)</source>
      <translation>PCA + k 均值（Celik 2009）</translation>
    </message>
    <message>
      <source>Change-vector magnitude</source>
      <translation>变化向量幅度</translation>
    </message>
    <message>
      <source>Difference</source>
      <translation>差值</translation>
    </message>
    <message>
      <source>Either way</source>
      <translation>双向</translation>
    </message>
    <message>
      <source>B brighter</source>
      <translation>B 变亮</translation>
    </message>
    <message>
      <source>B darker</source>
      <translation>B 变暗</translation>
    </message>
    <message>
      <source>Bands compared: {}.</source>
      <translation>比较的波段：{}。</translation>
    </message>
    <message>
      <source>Changed: {} of {} pixels compared ({:.4g} %).</source>
      <translation>变化：{} 个像元，共比较 {} 个（{:.4g} %）。</translation>
    </message>
    <message>
      <source>Change ({} to {})</source>
      <translation>变化（{} 至 {}）</translation>
    </message>
    <message>
      <source>Changed area on the ellipsoid: {:.6g} square metres ({:.6g} square kilometres).</source>
      <translation>椭球面上的变化面积：{:.6g} 平方米（{:.6g} 平方千米）。</translation>
    </message>
    <message>
      <source>Threshold: {:.6g}.</source>
      <translation>阈值：{:.6g}。</translation>
    </message>
    <message>
      <source>The principal components kept hold {:.1f} % of the blocks' variance.</source>
      <translation>保留的主成分占像元块方差的 {:.1f} %。</translation>
    </message>
    <message>
      <source>{} ({}, common area)</source>
      <translation>{}（{}，公共区域）</translation>
    </message>
    <message>
      <source>Clip raster pair to common area</source>
      <translation>将栅格对裁剪到公共区域</translation>
    </message>
    <message>
      <source>In the map, each output is drawn with its input layer's style where that layer is in the project. On one grid, A and B drawn alike share one stretch: per band, from the lower of their minimums to the higher of their maximums; the log gives it. The overlap polygon is drawn as an outline above them.</source>
      <translation>在地图中，若某输出的输入图层已在项目中，该输出沿用其样式。位于同一网格上且绘制方式相同时，A 与 B 共用一个拉伸：每个波段从两者最小值中的较低者到最大值中的较高者；日志中会给出该拉伸。重叠区多边形以轮廓线绘制在它们之上。</translation>
    </message>
    <message>
      <source>Raster A</source>
      <translation>栅格 A</translation>
    </message>
    <message>
      <source>The first raster (for example the earlier date); its grid is the default.</source>
      <translation>第一个栅格（例如较早日期的影像）；默认采用其网格。</translation>
    </message>
    <message>
      <source>Raster B</source>
      <translation>栅格 B</translation>
    </message>
    <message>
      <source>The second raster (for example the later date, or a DEM).</source>
      <translation>第二个栅格（例如较晚日期的影像或 DEM）。</translation>
    </message>
    <message>
      <source>Output grid</source>
      <translation>输出网格</translation>
    </message>
    <message>
      <source>Which pixel grid the outputs use. With A's or B's grid both outputs share one grid.</source>
      <translation>输出使用哪个像元网格。选择 A 或 B 的网格时，两个输出共用同一网格。</translation>
    </message>
    <message>
      <source>Count each input's valid pixels for the overlap percentages (reads every input whole)</source>
      <translation>为重叠百分比统计每个输入的有效像元（会完整读取每个输入）</translation>
    </message>
    <message>
      <source>Only with 'Where all rasters have valid data': the overlap's share of each input's valid data needs every input read whole, however small the overlap. Off, PERCENT_A and PERCENT_B (and the polygon's percent_a and percent_b) are left empty. With raster extents the percentages are always given.</source>
      <translation>仅在“所有栅格都有有效数据之处”时适用：重叠占每个输入有效数据的比例需要完整读取每个输入，无论重叠多小。关闭时，PERCENT_A 和 PERCENT_B（以及多边形的 percent_a 和 percent_b）留空。使用栅格范围时总会给出百分比。</translation>
    </message>
    <message>
      <source>Estimate the shift between A and B</source>
      <translation>估计 A 与 B 之间的偏移</translation>
    </message>
    <message>
      <source>Measures how far the second raster's content lies from the reference's (phase correlation in windows over the overlap, to a few hundredths of a pixel), or says why it cannot. The reference is the raster whose grid the outputs take (A with each raster's own grid). On by default: it reads a few small windows while the outputs are written; turn it off where the content cannot match, as a DEM's against an image's.</source>
      <translation>测量另一栅格的内容相对参考栅格偏移多远（在重叠区内多个窗口中进行相位相关，精度达百分之几像元），或说明无法测量的原因。参考栅格是输出所用格网的栅格（各用自身格网时为 A）。默认开启：在写入输出的同时读取少量小窗口；在内容无法匹配时（如 DEM 与影像）请关闭。</translation>
    </message>
    <message>
      <source>Remove the shift before clipping (co-register)</source>
      <translation>裁剪前消除偏移（配准）</translation>
    </message>
    <message>
      <source>Moves the other raster by its estimated shift before its output grid is planned, so that it is resampled once; a shift of whole pixels on the grid's lattice is still a copy. Nearest neighbour moves whole pixels only: choose bilinear, cubic or Lanczos to remove a fraction too.</source>
      <translation>在规划输出格网之前按估计的偏移移动另一栅格，使其只重采样一次；在格网点阵上整像元的偏移仍为复制。最邻近法只能移动整像元：若要同时消除小数部分，请选择双线性、三次卷积或 Lanczos。</translation>
    </message>
    <message>
      <source>Overlap polygon</source>
      <translation>重叠区多边形</translation>
    </message>
    <message>
      <source>The common area as one polygon in A's CRS: the true intersection of the footprints (or, with 'Where all rasters have valid data', of the valid pixels), with its area in A's CRS units, its area on the ellipsoid in square metres and square kilometres, its share of A and B, and the output size in pixels.</source>
      <translation>公共区域，作为 A 的坐标参考系中的一个多边形：各覆盖范围的真实交集（选择“所有栅格都有有效数据的区域”时为有效像元的交集），附带其在 A 的坐标参考系单位下的面积、在椭球面上以平方米和平方千米计的面积、占 A 和 B 的比例，以及以像元计的输出大小。</translation>
    </message>
    <message>
      <source>Shift windows (arrows)</source>
      <translation>偏移窗口（箭头）</translation>
    </message>
    <message>
      <source>With the shift estimated: a point at the centre of each window the shift was measured in, with its dx_px and dy_px (the other raster's content east and south, in reference pixels), dx and dy (in the reference's CRS units), the peak's strength and its status (kept, outlier, invalid, flat, weak, out_of_range); drawn as arrows, so that you see where the images disagree.</source>
      <translation>估计偏移时：在测量偏移的每个窗口中心放一个点，带 dx_px 和 dy_px（另一栅格的内容向东、向南的偏移，以参考像元计）、dx 和 dy（参考栅格坐标参考系的单位）、峰值强度及其状态（kept、outlier、invalid、flat、weak、out_of_range）；以箭头显示，便于看出图像在哪里不一致。</translation>
    </message>
    <message>
      <source>overlap,intersection,common,extent,clip,align,grid,change detection,pair</source>
      <translation>重叠,相交,公共,范围,裁剪,对齐,网格,变化检测,栅格对</translation>
    </message>
    <message>
      <source>Clips two rasters to the area they have in common and writes both, ready for pixel-by-pixel comparison (change detection, imagery against a DEM).

Grid:
- Raster A's grid (default): both outputs on A's CRS, pixel size and pixel phase; B is resampled only where it does not already lie on that grid.
- Raster B's grid: the mirror.
- Each raster's own grid: nothing is resampled; each output is a pixel window of its source.

A pixel belongs to the common area when its centre lies inside it. Where a source already lies on the output grid its values are copied unchanged. Rasters in different CRSs are intersected by their footprints in the output CRS.

The output format follows each output's file extension (.tif, .vrt, .img, ...).

Example: for change detection between scenes of 2020 (A) and 2024 (B), keep A's grid, choose 'Where all rasters have valid data' and set nodata where any has none: both outputs then cover the same ground on the same pixels, with identical valid pixels, ready for a difference.</source>
      <translation>将两个栅格裁剪到它们的公共区域并分别写出，可直接用于逐像元比较（变化检测、影像与 DEM 对比）。

网格：
- 栅格 A 的网格（默认）：两个输出都采用 A 的坐标系、像元大小和像元相位；B 仅在不位于该网格上时才会被重采样。
- 栅格 B 的网格：与上相反。
- 各栅格自身的网格：不做任何重采样；每个输出都是其源数据的一个像元窗口。

像元中心位于公共区域内的像元属于公共区域。源数据已位于输出网格上时，其像元值原样复制。不同坐标系的栅格按其在输出坐标系中的覆盖范围求交。

输出格式由各输出文件的扩展名决定（.tif、.vrt、.img 等）。

示例：对 2020 年（A）与 2024 年（B）的影像做变化检测时，保留 A 的网格，选择“所有栅格都有有效数据之处”，并在任一栅格无数据处设为无数据：两个输出将覆盖完全相同的地面、位于相同的像元上，有效像元也完全一致，可直接求差。</translation>
    </message>
    <message>
      <source>Where to write the clipped raster; the file extension chooses the format.</source>
      <translation>裁剪后栅格的保存位置；文件扩展名决定格式。</translation>
    </message>
    <message>
      <source>Overlap area (CRS units of A, squared)</source>
      <translation>重叠面积（A 的坐标系单位的平方）</translation>
    </message>
    <message>
      <source>Overlap area on the ellipsoid (square metres)</source>
      <translation>椭球面上的重叠面积（平方米）</translation>
    </message>
    <message>
      <source>Overlap as percent of A</source>
      <translation>重叠区占 A 的百分比</translation>
    </message>
    <message>
      <source>Overlap as percent of B</source>
      <translation>重叠区占 B 的百分比</translation>
    </message>
    <message>
      <source>Output width (pixels)</source>
      <translation>输出宽度（像元）</translation>
    </message>
    <message>
      <source>Output height (pixels)</source>
      <translation>输出高度（像元）</translation>
    </message>
    <message>
      <source>Shift east (reference pixels)</source>
      <translation>向东偏移（参考像元）</translation>
    </message>
    <message>
      <source>Shift south (reference pixels)</source>
      <translation>向南偏移（参考像元）</translation>
    </message>
    <message>
      <source>Shift on the ground (metres)</source>
      <translation>地面偏移（米）</translation>
    </message>
    <message>
      <source>Shift estimate is reliable</source>
      <translation>偏移估计可靠</translation>
    </message>
    <message>
      <source>Why the shift is not estimated</source>
      <translation>未估计偏移的原因</translation>
    </message>
    <message>
      <source>Overlap: {}, {:.4g}% of A, {:.4g}% of B.</source>
      <translation>重叠：{}，占 A 的 {:.4g}%，占 B 的 {:.4g}%。</translation>
    </message>
    <message>
      <source>Raster A's grid</source>
      <translation>栅格 A 的网格</translation>
    </message>
    <message>
      <source>Raster B's grid</source>
      <translation>栅格 B 的网格</translation>
    </message>
    <message>
      <source>Each raster's own grid</source>
      <translation>各栅格自身的网格</translation>
    </message>
    <message>
      <source>{} ({}, on the ellipsoid)</source>
      <translation>{}（{}，椭球面上）</translation>
    </message>
    <message>
      <source>{:.6g} square map units</source>
      <translation>{:.6g} 平方地图单位</translation>
    </message>
    <message>
      <source>Overlap: {}; its share of each input's valid data was not counted (that reads every input whole: see the advanced parameters).</source>
      <translation>重叠：{}；未统计其占各输入有效数据的比例（这需要完整读取每个输入：见高级参数）。</translation>
    </message>
    <message>
      <source>Overlap: {}.</source>
      <translation>重叠：{}。</translation>
    </message>
    <message>
      <source>Clip raster stack to common area</source>
      <translation>将栅格序列裁剪到公共区域</translation>
    </message>
    <message>
      <source>Clips two or more rasters (a time series, scenes of several sensors) to the area they all have in common and writes each into the output folder as NAME_common.tif, NAME being the input's file name.

Grid:
- Reference raster's grid (default): every output on the CRS, pixel size and pixel phase of the reference raster: the layer picked as reference layer, or else the input at the reference position (1 = first). The reference layer wins when both are given.
- Each raster's own grid: nothing is resampled; each output is a pixel window of its source.

A pixel belongs to the common area when its centre lies inside it. Where a source already lies on the output grid its values are copied unchanged. If the inputs have no common area, the message names the input that leaves it empty; nothing is written.

The outputs are loaded into one group named after the output folder, each drawn with its input layer's style where that layer is in the project. On one grid, rasters drawn alike share one stretch: per band, from the lowest minimum to the highest maximum of their own stretches; the log gives it.

Example: 40 Landsat and Sentinel-2 scenes of one place, reference 1 (the first scene's grid), 'Where all rasters have valid data': every output covers the same ground on the same pixels.</source>
      <translation>将两个或更多栅格（时间序列、多传感器影像）裁剪到它们共有的区域，并以 NAME_common.tif 写入输出文件夹（NAME 即输入的文件名）。

网格：
- 参考栅格的网格（默认）：所有输出都采用参考栅格的坐标系、像元大小和像元相位：参考栅格即所选的参考图层，否则为参考序号处的输入（1 = 第一个）。两者都给出时，以参考图层为准。
- 各栅格自身的网格：不做任何重采样；每个输出都是其源数据的一个像元窗口。

像元中心位于公共区域内的像元属于公共区域。源数据已位于输出网格上时，其像元值原样复制。若输入没有公共区域，提示信息会指出是哪个输入导致公共区域为空；不会写入任何内容。

输出会加载到一个以输出文件夹命名的图层组中；若某输出的输入图层已在项目中，该输出沿用其样式。位于同一网格上、绘制方式相同的栅格共用一个拉伸：每个波段从各自拉伸的最小值中的最低值到最大值中的最高值；日志中会给出该拉伸。

示例：同一地区的 40 景 Landsat 和 Sentinel-2 影像，参考栅格为 1（第一景的网格），选择“所有栅格都有有效数据之处”：所有输出都覆盖完全相同的地面、位于相同的像元上。</translation>
    </message>
    <message>
      <source>Input rasters</source>
      <translation>输入栅格</translation>
    </message>
    <message>
      <source>Two or more rasters, for example the scenes of a time series.</source>
      <translation>两个或更多栅格，例如时间序列中的各景影像。</translation>
    </message>
    <message>
      <source>Reference raster (position in the input list, 1 = first)</source>
      <translation>参考栅格（在输入列表中的序号，1 = 第一个）</translation>
    </message>
    <message>
      <source>The input whose grid every output takes, counted from 1; for models and scripts. A reference layer, when given, wins.</source>
      <translation>所有输出采用其网格的输入，从 1 开始计数；供模型和脚本使用。若给出了参考图层，则以参考图层为准。</translation>
    </message>
    <message>
      <source>Reference layer (one of the input rasters)</source>
      <translation>参考图层（输入栅格之一）</translation>
    </message>
    <message>
      <source>The input whose grid every output takes, picked as a layer; it wins over the reference position.</source>
      <translation>所有输出采用其网格的输入，以图层方式选取；优先于参考序号。</translation>
    </message>
    <message>
      <source>With the reference raster's grid every output shares one grid.</source>
      <translation>选择参考栅格的网格时，所有输出共用同一网格。</translation>
    </message>
    <message>
      <source>Estimate each raster's shift against the reference</source>
      <translation>估计每个栅格相对参考栅格的偏移</translation>
    </message>
    <message>
      <source>Measures how far each raster's content lies from the reference raster's (phase correlation in windows over the common area, to a few hundredths of a pixel), or says why it cannot. With each raster's own grid the reference is the first input. On by default: it reads a few small windows while the outputs are written; turn it off where the content cannot match, as a DEM's against an image's.</source>
      <translation>测量每个栅格的内容相对参考栅格偏移多远（在公共区域内多个窗口中进行相位相关，精度达百分之几像元），或说明无法测量的原因。各用自身格网时，参考栅格为第一个输入。默认开启：在写入输出的同时读取少量小窗口；在内容无法匹配时（如 DEM 与影像）请关闭。</translation>
    </message>
    <message>
      <source>Remove the shifts before clipping (co-register)</source>
      <translation>裁剪前消除偏移（配准）</translation>
    </message>
    <message>
      <source>Moves each raster by its estimated shift before its output grid is planned, so that it is resampled once; a shift of whole pixels on the grid's lattice is still a copy. A raster whose shift is not reliable is not moved. Nearest neighbour moves whole pixels only: choose bilinear, cubic or Lanczos to remove a fraction too.</source>
      <translation>在规划输出格网之前按估计的偏移移动每个栅格，使其只重采样一次；在格网点阵上整像元的偏移仍为复制。偏移不可靠的栅格不移动。最邻近法只能移动整像元：若要同时消除小数部分，请选择双线性、三次卷积或 Lanczos。</translation>
    </message>
    <message>
      <source>QA rasters (one per input, in the same order)</source>
      <translation>QA 栅格（每个输入一个，顺序相同）</translation>
    </message>
    <message>
      <source>Separate QA rasters, one per input in the order of the inputs, each on its input's grid and covering it; empty: the QA band is a band of each input.</source>
      <translation>单独的 QA 栅格，按输入的顺序每个输入一个，各自位于其输入的格网上并将其完全覆盖；留空：QA 波段是每个输入自身的一个波段。</translation>
    </message>
    <message>
      <source>Output folder</source>
      <translation>输出文件夹</translation>
    </message>
    <message>
      <source>Where to write NAME_common.tif (NAME: the input's file name) for every input (created if missing).</source>
      <translation>为每个输入写出 名称_common.tif（名称即输入的文件名）的位置（不存在时自动创建）。</translation>
    </message>
    <message>
      <source>Open the clipped rasters in the map</source>
      <translation>在地图中打开裁剪后的栅格</translation>
    </message>
    <message>
      <source>Off, the rasters are written but not loaded into the project.</source>
      <translation>关闭时，栅格会被写出，但不会加载到项目中。</translation>
    </message>
    <message>
      <source>Shift table</source>
      <translation>偏移表</translation>
    </message>
    <message>
      <source>A CSV file with one row per input: its output, whether it is the reference, its shift in reference pixels and on the ground, whether that is reliable, the windows that agree, the move that co-registered it, and why there is no number. Given, the shifts are estimated even without the estimate option. Written only when the run succeeds.</source>
      <translation>一个 CSV 文件，每个输入一行：其输出、是否为参考栅格、以参考像元和地面距离表示的偏移、是否可靠、一致的窗口、配准时所做的移动，以及没有数值的原因。给出此文件时，即使未选择估计选项也会估计偏移。仅在运行成功时写入。</translation>
    </message>
    <message>
      <source>overlap,intersection,common,extent,clip,align,grid,time series,stack</source>
      <translation>重叠,相交,公共,范围,裁剪,对齐,网格,时间序列,栅格序列</translation>
    </message>
    <message>
      <source>Clear-sky rule of every input</source>
      <translation>所有输入的晴空规则</translation>
    </message>
    <message>
      <source>QA band</source>
      <translation>QA 波段</translation>
    </message>
    <message>
      <source>CSV files (*.csv)</source>
      <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
      <source>Clipped rasters</source>
      <translation>裁剪后的栅格</translation>
    </message>
    <message>
      <source>Cannot write the shift table '{}': {}</source>
      <translation>无法写入偏移表 '{}'：{}</translation>
    </message>
    <message>
      <source>Reference raster's grid</source>
      <translation>参考栅格的网格</translation>
    </message>
    <message>
      <source>{} (common area)</source>
      <translation>{}（公共区域）</translation>
    </message>
    <message>
      <source>At least two input rasters are needed, not {}.</source>
      <translation>至少需要两个输入栅格，当前为 {} 个。</translation>
    </message>
    <message>
      <source>The reference layer '{}' is not one of the input rasters.</source>
      <translation>参考图层 '{}' 不是输入栅格之一。</translation>
    </message>
    <message>
      <source>The reference raster is number {}, but there are {} inputs.</source>
      <translation>参考栅格为第 {} 个，但只有 {} 个输入。</translation>
    </message>
    <message>
      <source>{} QA rasters are given for {} input rasters; give one for each input, in their order, or none.</source>
      <translation>给出了 {} 个 QA 栅格，但输入栅格有 {} 个；请按输入的顺序为每个输入各给一个，或一个都不给。</translation>
    </message>
    <message>
      <source>The shift table '{}' would overwrite the raster '{}'; choose another file.</source>
      <translation>偏移表 '{}' 会覆盖栅格 '{}'；请选择另一个文件。</translation>
    </message>
    <message>
      <source>Change</source>
      <translation>变化</translation>
    </message>
    <message>
      <source>No change</source>
      <translation>未变化</translation>
    </message>
    <message>
      <source>; </source>
      <translation>；</translation>
    </message>
    <message>
      <source>{names} share one stretch ({bands}).</source>
      <translation>{names} 共用一个拉伸（{bands}）。</translation>
    </message>
    <message>
      <source>band {band}: {low:.6g} to {high:.6g}</source>
      <translation>波段 {band}：{low:.6g} 至 {high:.6g}</translation>
    </message>
    <message>
      <source>Overlap Clip</source>
      <translation>重叠区裁剪</translation>
    </message>
  </context>
</TS>
